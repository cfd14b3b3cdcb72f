from django.urls import path

from cunxin.visits import views

app_name = "visits"
urlpatterns = [
    path("", views.tasks, name="tasks"),
    path("tasks/<int:pk>/", views.visit, name="visit"),
    path("tasks/<int:pk>/photos/<int:photo_id>.jpg", views.photo, name="photo"),
    path("projects/<int:pk>/", views.project_tasks, name="project"),
]
