from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cunxin.project import records, views
from cunxin.project.forms import LoginForm

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="project/login.html",
            redirect_authenticated_user=True,
            authentication_form=LoginForm,
        ),
        name="login",
    ),
    path("code-login/", views.code_login, name="code_login"),
    path("code-login/verify/", views.code_verify, name="code_verify"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("pool/", include("cunxin.pool.urls")),
    path("org/", include("cunxin.org.urls")),
    path("evaluation/", include("cunxin.evaluation.urls")),
    path("visits/", include("cunxin.visits.urls")),
    path("credit/", include("cunxin.decisions.urls")),
    path("audit/", records.trail, name="audit"),
    path("access-log/", records.access_log, name="access_log"),
    path("admin/", admin.site.urls),
]
