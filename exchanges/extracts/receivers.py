"""On each validation (new version ⇒ new archive), queue the build of the archive.

``list_validated`` is sent once the validation is committed; the task gets only the list id
(never a password). The build never runs inside the request that validated: a worker's, or
in-process a background thread (``siao_ofii.background``)."""

from django.dispatch import receiver

from exchanges.signals import list_validated


@receiver(list_validated, dispatch_uid="exchanges.extracts.build_on_validation")
def build_on_validation(sender, monthly_list, **kwargs):
    from siao_ofii import background

    from .tasks import build_extract

    background.delay(build_extract, monthly_list.pk)
