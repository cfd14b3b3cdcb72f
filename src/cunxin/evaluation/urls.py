from django.urls import path

from cunxin.evaluation import staff_views, views

app_name = "evaluation"
urlpatterns = [
    path("", views.evaluator_home, name="home"),
    path("rounds/<int:round_id>/households/<str:uid>/", views.review_household, name="review"),
    path("rounds/<int:round_id>/persons/<str:uid>/photo.svg", views.evaluator_photo, name="photo"),
    path("projects/", staff_views.projects, name="projects"),
    path("projects/<int:pk>/", staff_views.project, name="project"),
    path("rounds/<int:pk>/results/", staff_views.round_results, name="round_results"),
]
