from django.urls import path

from cunxin.org import views

app_name = "org"
urlpatterns = [
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/<int:pk>/", views.staff_detail, name="staff"),
    path("staff/<int:pk>/change/", views.staff_change, name="staff_change"),
    path("staff/<int:pk>/assign/", views.staff_assign, name="staff_assign"),
    path("assignments/<int:pk>/end/", views.assignment_end, name="assignment_end"),
]
