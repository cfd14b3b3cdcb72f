from django.urls import path

from cunxin.pool import publish_views, views

app_name = "pool"
urlpatterns = [
    path("villages/", views.villages, name="villages"),
    path("villages/<str:code>/", views.village_pool, name="village"),
    path("households/<str:uid>/", views.household, name="household"),
    path("persons/<str:uid>/", views.person_360, name="person"),
    path("persons/<str:uid>/photo.svg", views.person_photo, name="photo"),
    path("persons/<str:uid>/reveal/<str:field>/", views.reveal, name="reveal"),
    path("segments/", views.segments, name="segments"),
    path("segments/<int:pk>/", views.segment, name="segment"),
    path("segments/<int:pk>/delete/", views.segment_delete, name="segment_delete"),
    path("segments/<int:pk>/export.xlsx", views.segment_export, name="segment_export"),
    path("publish-runs/", publish_views.publish_runs, name="publish_runs"),
    path("publish-runs/start/", publish_views.publish_start, name="publish_start"),
    path("publish-runs/<int:pk>/rerun/", publish_views.publish_rerun, name="publish_rerun"),
]
