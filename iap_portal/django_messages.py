"""Django's own messages whose Latvian translation is wrong, so that ours is used instead.

Django's Latvian catalogue has the plural forms of several messages in the wrong order ("vismaz
12 rakstzīmei", "393 baits"), a missing long vowel ("jabūt") and a word put into a sentence in the
wrong case ("pareizu lietotājvārds"). The project's catalogue (``LOCALE_PATHS``) comes before
Django's, so the same messages translated there win. This module only names them, for
``makemessages`` to keep them in the catalogue; nothing imports it.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

DJANGO_MESSAGES = (
    # django.contrib.auth.forms.AuthenticationForm (its %(username)s is the field's name, put
    # in a sentence it does not fit in Latvian).
    gettext_noop(
        "Please enter a correct %(username)s and password. Note that both fields may be "
        "case-sensitive."
    ),
    # django.contrib.auth.password_validation.MinimumLengthValidator
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        "min_length",
    ),
    ngettext_lazy(
        "Your password must contain at least %(min_length)d character.",
        "Your password must contain at least %(min_length)d characters.",
        "min_length",
    ),
    # django.core.validators
    gettext_noop("Ensure this value is less than or equal to %(limit_value)s."),
    ngettext_lazy(
        "Ensure this value has at least %(limit_value)d character (it has %(show_value)d).",
        "Ensure this value has at least %(limit_value)d characters (it has %(show_value)d).",
        "limit_value",
    ),
    ngettext_lazy(
        "Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
        "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
        "limit_value",
    ),
    ngettext_lazy(
        "Ensure that there are no more than %(max)s digit in total.",
        "Ensure that there are no more than %(max)s digits in total.",
        "max",
    ),
    ngettext_lazy(
        "Ensure that there are no more than %(max)s decimal place.",
        "Ensure that there are no more than %(max)s decimal places.",
        "max",
    ),
    ngettext_lazy(
        "Ensure that there are no more than %(max)s digit before the decimal point.",
        "Ensure that there are no more than %(max)s digits before the decimal point.",
        "max",
    ),
    # django.forms.FileField
    ngettext_lazy(
        "Ensure this filename has at most %(max)d character (it has %(length)d).",
        "Ensure this filename has at most %(max)d characters (it has %(length)d).",
        "max",
    ),
    # django.template.defaultfilters.filesizeformat
    ngettext_lazy("%(size)d byte", "%(size)d bytes", "size"),
)
