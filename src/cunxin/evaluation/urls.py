from django.urls import path

from cunxin.evaluation import views

app_name = "evaluation"
urlpatterns = [
    path("", views.evaluator_home, name="home"),
    path("rounds/<int:round_id>/households/<str:uid>/", views.review_household, name="review"),
    path("rounds/<int:round_id>/persons/<str:uid>/photo.svg", views.evaluator_photo, name="photo"),
]
