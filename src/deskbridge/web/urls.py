from django.contrib.auth import views as auth_views
from django.urls import path

from deskbridge.web import amazon, conversations, helpdesks, intake, replies, views, webhooks
from deskbridge.web.forms import LoginForm

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path(
        "login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"
    ),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("members/", views.members, name="members"),
    path("members/<int:pk>/role/", views.member_role, name="member_role"),
    path("members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("organisation/new/", views.new_organisation, name="new_organisation"),
    path("organisation/switch/", views.switch_organisation, name="switch_organisation"),
    path("work/<str:label>/<int:pk>/retry/", views.retry_work, name="retry_work"),
    path("conversations/", conversations.conversation_list, name="conversations"),
    path("conversations/<int:pk>/", conversations.conversation_detail, name="conversation_detail"),
    path("amazon/", amazon.accounts, name="amazon_accounts"),
    path("amazon/add/", amazon.add_region, name="amazon_add_region"),
    path("amazon/add/<str:region>/", amazon.add_marketplaces, name="amazon_add_marketplaces"),
    path("amazon/add-helpdesk/", amazon.add_helpdesk, name="amazon_add_helpdesk"),
    path("amazon/add-connect/", amazon.add_connect, name="amazon_add_connect"),
    path("amazon/connect/", amazon.connect, name="amazon_connect"),
    path("amazon/callback/", amazon.callback, name="amazon_callback"),
    path("amazon/login/", amazon.login_uri, name="amazon_login_uri"),
    path("amazon/help/authorization/", amazon.authorization_help, name="amazon_authorization_help"),
    path("amazon/<int:pk>/", amazon.account, name="amazon_account"),
    path("amazon/<int:pk>/addresses/<int:connection>/", amazon.save_address, name="amazon_save_address"),
    path("amazon/<int:pk>/marketplaces/", amazon.add_more_marketplaces, name="amazon_add_more"),
    path("amazon/<int:pk>/reauthorize/", amazon.reauthorize, name="amazon_reauthorize"),
    path("amazon/<int:pk>/disconnect/", amazon.disconnect, name="amazon_disconnect"),
    path("helpdesk/", helpdesks.settings_page, name="helpdesk_settings"),
    path("helpdesk/reply-rules/", replies.policy, name="helpdesk_reply_rules"),
    path("helpdesk/<str:kind>/connect/", helpdesks.connect, name="helpdesk_connect"),
    path("helpdesk/<str:kind>/oauth/", helpdesks.oauth_start, name="helpdesk_oauth_start"),
    path("helpdesk/<str:kind>/oauth/callback/", helpdesks.oauth_callback, name="helpdesk_oauth_callback"),
    path("helpdesk/<int:pk>/check/", helpdesks.check, name="helpdesk_check"),
    path("helpdesk/<int:pk>/disconnect/", helpdesks.disconnect, name="helpdesk_disconnect"),
    path("webhooks/<str:kind>/<str:token>/", webhooks.receive, name="helpdesk_webhook"),
    path("intake/mime", intake.mime, name="intake_mime"),
]
