"""The payers' accounts are entered here by the technical administrator (the bank file's
debtor); batches are read-only here (their pages change them, with four eyes)."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext as _
from simple_history.admin import SimpleHistoryAdmin

from .iban import normalise_iban
from .models import BatchLine, DebtorAccount, PaymentBatch


class DebtorAccountForm(forms.ModelForm):
    class Meta:
        model = DebtorAccount
        fields = ["municipality", "school", "name", "iban", "bic"]

    def clean_iban(self):
        return normalise_iban(self.cleaned_data["iban"])

    def clean_bic(self):
        bic = self.cleaned_data["bic"].replace(" ", "").upper()
        if len(bic) not in (8, 11) or not bic[:6].isalpha():
            raise forms.ValidationError(_("A BIC has 8 or 11 characters, e.g. HABALV22."))
        return bic


@admin.register(DebtorAccount)
class DebtorAccountAdmin(SimpleHistoryAdmin):
    form = DebtorAccountForm
    list_display = ["name", "municipality", "school", "iban", "bic"]


class BatchLineInline(admin.TabularInline):
    model = BatchLine
    extra = 0
    can_delete = False
    fields = ["claim", "payee_name", "amount", "outcome", "paid_on", "bank_reference"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PaymentBatch)
class PaymentBatchAdmin(SimpleHistoryAdmin):
    list_display = ["code", "school", "month", "payer", "status", "total"]
    list_filter = ["status", "payer"]
    inlines = [BatchLineInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
