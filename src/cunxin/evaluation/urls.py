from django.urls import path

from cunxin.evaluation import policy_views, qa_views, sheet_views, staff_views, views

app_name = "evaluation"
urlpatterns = [
    path("", views.evaluator_home, name="home"),
    path("rounds/<int:round_id>/households/<str:uid>/", views.review_household, name="review"),
    path("rounds/<int:round_id>/persons/<str:uid>/photo.svg", views.evaluator_photo, name="photo"),
    path("projects/", staff_views.projects, name="projects"),
    path("projects/<int:pk>/", staff_views.project, name="project"),
    path("projects/<int:pk>/panel/add/", staff_views.panel_add, name="panel_add"),
    path(
        "projects/<int:pk>/panel/<int:member>/remove/",
        staff_views.panel_remove,
        name="panel_remove",
    ),
    path("projects/<int:pk>/rounds/open/", staff_views.round_open, name="round_open"),
    path("rounds/<int:pk>/close/", staff_views.round_close, name="round_close"),
    path("projects/<int:pk>/sheets/", sheet_views.sheets_page, name="sheets"),
    path("projects/<int:pk>/sheets/<int:member>/", sheet_views.sheet_export, name="sheet_export"),
    path("projects/<int:pk>/policy/", policy_views.project_policy, name="project_policy"),
    path("policies/", policy_views.policies, name="policies"),
    path("policies/<int:pk>/", policy_views.policy, name="policy"),
    path("rounds/<int:pk>/results/", staff_views.round_results, name="round_results"),
    path("qa/", qa_views.qa, name="qa"),
    path("projects/<int:pk>/qa/", qa_views.project_qa, name="qa_project"),
    path("qa/<int:pk>/", qa_views.check, name="qa_check"),
    path("qa/<int:pk>/photo.jpg", qa_views.check_photo, name="qa_photo"),
    path("qa/<int:pk>/signature.png", qa_views.check_signature, name="qa_signature"),
    path("rounds/<int:pk>/rereview/", staff_views.rereview, name="rereview"),
]
