"""What the apps' status changes share: a refusal with messages for the user, and the page
that asks for a comment (return, reject, suspend) before acting."""

from django.contrib import messages
from django.shortcuts import redirect, render


class ActionRefused(Exception):
    """A write or transition that is refused; ``messages`` say why, for the user."""

    def __init__(self, *messages):
        super().__init__(*messages)
        self.messages = list(messages)


def show_refusal(request, error):
    for message in error.messages:
        messages.error(request, message)


def comment_action(request, form_class, act, *, template, context, success, done_url):
    """GET shows the form; a valid POST calls ``act(comment)`` and goes to ``done_url``."""
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            act(form.cleaned_data["comment"])
        except ActionRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, success)
        return redirect(done_url)
    return render(request, template, {**context, "form": form})
