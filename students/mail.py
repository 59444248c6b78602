"""The invitation to a role in a school, by e-mail."""

from django.urls import reverse

from accounts.mail import password_link_context, send_mail


def send_invitation_email(*, invitation, user, new_account, request):
    """The link to accept; for a new account, first the link to set its password."""
    context = {
        "invitation": invitation,
        "school": invitation.school.name,
        "role": invitation.get_role_display(),
        "url": request.build_absolute_uri(reverse("invitation", args=[invitation.token])),
        "new_account": new_account,
        "username": user.username,
    }
    if new_account:
        context.update(password_link_context(user=user, request=request))
    send_mail(
        subject_template="registration/invitation_subject.txt",
        body_template="registration/invitation_email.txt",
        context=context,
        to=invitation.email,
    )
