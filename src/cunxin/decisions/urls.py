"""授信 (credit) pages: decisions and approvals, the credit policy, models and batch runs."""

from cunxin.decisions import batch_views, policy_views, views

app_name = "decisions"
urlpatterns = [*views.urls, *policy_views.urls, *batch_views.urls]
