from django.urls import path

from cunxin.org import views

app_name = "org"
urlpatterns = [
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/<int:pk>/", views.staff_detail, name="staff"),
    path("assignments/<int:pk>/end/", views.assignment_end, name="assignment_end"),
]
