// The browser's location for the visit area: fills hidden lat/lon inputs of a form, or
// reloads the task list ordered by distance. Nothing is sent unless the user allows it.
(function () {
  function locate(done, fail) {
    if (!navigator.geolocation) { fail && fail(); return; }
    navigator.geolocation.getCurrentPosition(
      function (pos) { done(pos.coords.latitude.toFixed(6), pos.coords.longitude.toFixed(6)); },
      function () { fail && fail(); },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  }
  document.addEventListener("DOMContentLoaded", function () {
    var sorter = document.querySelector("[data-sort-by-distance]");
    if (sorter) {
      sorter.addEventListener("click", function () {
        var status = document.querySelector("[data-geo-status]");
        locate(function (lat, lon) {
          var url = new URL(window.location.href);
          url.searchParams.set("lat", lat); url.searchParams.set("lon", lon);
          window.location.assign(url.toString());
        }, function () { if (status) status.hidden = false; });
      });
    }
    var form = document.querySelector("form[data-geo]");
    if (form) {
      locate(function (lat, lon) {
        form.querySelector("input[name=lat]").value = lat;
        form.querySelector("input[name=lon]").value = lon;
        var shown = form.querySelector("[data-geo-shown]");
        if (shown) shown.textContent = lat + ", " + lon;
      }, function () {
        // no location: say so (an on-site visit needs one; a phone visit does not)
        var shown = form.querySelector("[data-geo-shown]");
        var failed = form.querySelector("[data-geo-failed]");
        if (shown && failed) { shown.textContent = failed.textContent; shown.classList.add("errors"); }
      });
    }
  });
})();
