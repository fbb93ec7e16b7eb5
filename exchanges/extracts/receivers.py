"""On each validation (new version ⇒ new archive), queue the build of the archive.

``list_validated`` is sent once the validation is committed; the task gets only the list id
(never a password)."""

from django.dispatch import receiver

from exchanges.signals import list_validated


@receiver(list_validated, dispatch_uid="exchanges.extracts.build_on_validation")
def build_on_validation(sender, monthly_list, **kwargs):
    from .tasks import build_extract

    build_extract.delay(monthly_list.pk)
