/* 验收: the checker signs on a <canvas data-signature-pad="ID-of-hidden-input"> with a
   finger, a pen or a mouse (pointer events). On submit the drawing goes into the hidden
   input as a PNG data URL; an untouched pad sends nothing, and the server says "sign".
   A <button data-signature-clear="ID-of-canvas"> wipes it. After a refused save the page
   sends the signature back in the input, and it is drawn on the pad again.

   The place, when the browser allows it: <input data-geo="latitude|longitude"> in the
   same form, and a status line <… data-geo-status data-ok="…" data-none="…"> whose texts
   come from the page (translated there). Nothing is kept in browser storage. */
(function () {
  "use strict";

  function setUpPad(canvas) {
    var input = document.getElementById(canvas.getAttribute("data-signature-pad"));
    var form = canvas.closest("form");
    var ctx = canvas.getContext("2d");
    var inked = false;
    var drawing = false;
    var last = null;
    var cssWidth = 0;

    function pen() {
      ctx.lineWidth = 2.5;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#111";
      ctx.fillStyle = "#111";
    }

    function drawBack(url) {
      var img = new Image();
      img.onload = function () {
        var rect = canvas.getBoundingClientRect();
        ctx.drawImage(img, 0, 0, rect.width, rect.height);
        inked = true;
      };
      img.src = url;
    }

    // Match the bitmap to the displayed size (sharp on high-density screens); keep what
    // is drawn when the width changes (the phone turned), not on every scroll of the
    // address bar, which changes only the window's height.
    function fit() {
      var rect = canvas.getBoundingClientRect();
      if (rect.width === 0 || rect.width === cssWidth) {
        return;
      }
      var kept = inked ? canvas.toDataURL("image/png") : null;
      var ratio = window.devicePixelRatio || 1;
      cssWidth = rect.width;
      canvas.width = Math.round(rect.width * ratio);
      canvas.height = Math.round(rect.height * ratio);
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      pen();
      if (kept) {
        drawBack(kept);
      }
    }

    function at(event) {
      var rect = canvas.getBoundingClientRect();
      return { x: event.clientX - rect.left, y: event.clientY - rect.top };
    }

    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      if (canvas.setPointerCapture) {
        canvas.setPointerCapture(event.pointerId);
      }
      drawing = true;
      last = at(event);
      ctx.beginPath();
      ctx.arc(last.x, last.y, ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fill();
      inked = true;
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) {
        return;
      }
      event.preventDefault();
      var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
      if (events.length === 0) {
        events = [event];
      }
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      for (var i = 0; i < events.length; i++) {
        last = at(events[i]);
        ctx.lineTo(last.x, last.y);
      }
      ctx.stroke();
    });
    function stop() {
      drawing = false;
      last = null;
    }
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);

    var clear = document.querySelector('[data-signature-clear="' + canvas.id + '"]');
    if (clear) {
      clear.addEventListener("click", function () {
        ctx.save();
        ctx.setTransform(1, 0, 0, 1, 0, 0);
        ctx.clearRect(0, 0, canvas.width, canvas.height);
        ctx.restore();
        inked = false;
        if (input) {
          input.value = "";
        }
      });
    }

    if (form && input) {
      form.addEventListener("submit", function () {
        input.value = inked ? canvas.toDataURL("image/png") : "";
      });
    }

    fit();
    window.addEventListener("resize", fit);
    if (input && input.value.indexOf("data:image/png;base64,") === 0) {
      drawBack(input.value);
    }
  }

  function setUpPlace(form) {
    var latitude = form.querySelector('[data-geo="latitude"]');
    var longitude = form.querySelector('[data-geo="longitude"]');
    var status = form.querySelector("[data-geo-status]");
    if (!latitude || !longitude) {
      return;
    }
    function say(key) {
      if (status) {
        status.textContent = status.getAttribute(key) || "";
      }
    }
    if (!navigator.geolocation) {
      say("data-none");
      return;
    }
    navigator.geolocation.getCurrentPosition(
      function (position) {
        latitude.value = position.coords.latitude.toFixed(6);
        longitude.value = position.coords.longitude.toFixed(6);
        say("data-ok");
      },
      function () {
        say("data-none");
      },
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 }
    );
  }

  function start() {
    var pads = document.querySelectorAll("canvas[data-signature-pad]");
    for (var i = 0; i < pads.length; i++) {
      setUpPad(pads[i]);
    }
    var places = document.querySelectorAll("form");
    for (var j = 0; j < places.length; j++) {
      if (places[j].querySelector("[data-geo]")) {
        setUpPlace(places[j]);
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
