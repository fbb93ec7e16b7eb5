"""Celery app module for a worker whose file reader kills its process (os._exit), as calamine
does when it aborts on a huge allocation. Used with the prefork pool: the parent survives,
sees its child die and, with acks_late + reject_on_worker_lost, delivers the task again."""

import os

from celery import signals

from siao_ofii.celery import app  # noqa: F401 (the worker's application)


@signals.worker_process_init.connect
def _reader_kills_its_process(**kwargs):
    from exchanges.services import workflow

    def die(*args, **kwargs):
        os._exit(70)

    workflow.read_table = die
