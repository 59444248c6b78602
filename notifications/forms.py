from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .kinds import KINDS, Delivery


class PreferencesForm(forms.Form):
    """How each kind of notification reaches the user, and the language of their e-mails."""

    language = forms.ChoiceField(label=_("Language of my e-mails"), choices=settings.LANGUAGES)

    def __init__(self, *args, current: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        for code, kind in KINDS.items():
            self.fields[f"kind_{code}"] = forms.ChoiceField(
                label=kind.label,
                choices=Delivery.choices,
                initial=current.get(code, Delivery.IMMEDIATE),
            )

    def choices(self) -> dict[str, str]:
        return {code: self.cleaned_data[f"kind_{code}"] for code in KINDS}

    def kind_fields(self):
        return [self[f"kind_{code}"] for code in KINDS]
