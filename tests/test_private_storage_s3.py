"""The optional S3-compatible backend (PRIVATE_STORAGE=s3, django-storages), against moto's
in-process S3 (no network): the storage operations the code uses, an upload encrypted in the
bucket and deleted once processed, an archive built into the bucket, streamed by the audited
view and opened with its password, then purged. A real provider is NOT exercised here, nor a
worker process on S3 (moto lives in this process only)."""

import datetime
import io
import re

import boto3
import pytest
import pyzipper
from django.core.files.base import ContentFile
from django.urls import reverse
from moto import mock_aws

from exchanges.extracts.services import build_for_list, purge_expired
from exchanges.models import ListState
from exchanges.services import workflow
from referentiel.models import Departement
from siao_ofii.privatefiles.s3 import PrivateS3Storage
from siao_ofii.privatefiles.storage import private_storage
from tests.exchanges import samples
from tests.factories import make_list
from tests.helpers import login
from tests.test_private_storage import _private_backend

BUCKET, REGION, PREFIX = "siao-ofii-prive", "eu-west-3", "instance-test"


@pytest.fixture
def s3(settings, monkeypatch):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(var, "testing")
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        settings.STORAGES = {**settings.STORAGES, "private": {
            "BACKEND": "siao_ofii.privatefiles.s3.PrivateS3Storage",
            "OPTIONS": {"bucket_name": BUCKET, "region_name": REGION, "access_key": "testing",
                        "secret_key": "testing", "location": PREFIX},
        }}
        storage = private_storage()
        assert isinstance(storage, PrivateS3Storage)
        yield client


def _object(client, name):
    return client.get_object(Bucket=BUCKET, Key=f"{PREFIX}/{name}")["Body"].read()


def test_s3_storage_operations(s3):
    storage = private_storage()
    name = storage.save("uploads/a.csv", ContentFile(b"first"))
    assert name == "uploads/a.csv" and _object(s3, name) == b"first"
    again = storage.save("uploads/a.csv", ContentFile(b"second"))
    assert again != name and storage.open(name).read() == b"first"  # never overwritten
    assert storage.exists(name) and storage.size(name) == 5
    storage.save("extracts/2026-11/SIAO_069_2026-11_v1.zip", ContentFile(b"PK"))
    assert storage.listdir("extracts") == (["2026-11"], [])
    assert storage.listdir("uploads")[1] == sorted(["a.csv", again.split("/")[1]])
    assert storage.get_modified_time(name).tzinfo is not None
    with pytest.raises(NotImplementedError):
        storage.url(name)
    storage.delete(name)
    assert not storage.exists(name)
    with pytest.raises(FileNotFoundError):
        storage.open(name)


def test_s3_upload_encrypted_processed_and_deleted(s3, demo, monkeypatch):
    monkeypatch.setattr(workflow, "current_period", lambda today=None: "2026-11")
    data = samples.csv_bytes(samples.GOOD)
    ml = workflow.receive_upload(Departement.objects.get(code="69"), "2026-11", data, name="liste.csv",
                                 user=demo["siao.69"], run=False)
    raw = _object(s3, workflow.upload_name(ml.source_path))
    assert b"DUPONT" not in raw and data not in raw
    ml = workflow.process_list(ml.pk)
    assert ml.state == ListState.DRAFT and ml.row_count == 3
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/uploads/")["KeyCount"] == 0


def test_s3_archive_built_streamed_opened_and_purged(s3, demo, client):
    ml = make_list("69", "2024-10", uploaded_by=demo["siao.69"], rows=4)
    extract, created = build_for_list(ml.pk)
    assert created and extract.file_path == "extracts/2024-10/SIAO_069_2024-10_v1.zip"
    login(client, demo["dt.lyon"])
    page = client.post(reverse("exchanges:extract_password", args=[extract.pk])).content.decode()
    password = re.search(r'id="archive-password">([^<]+)<', page).group(1)
    response = client.get(reverse("exchanges:extract_download", args=[extract.pk]))
    archive = b"".join(response.streaming_content)
    assert response.status_code == 200 and archive == _object(s3, extract.file_path)
    with pyzipper.AESZipFile(io.BytesIO(archive)) as zf:
        zf.setpassword(password.encode("ascii"))
        assert zf.read("SIAO_069_2024-10_v1.csv").decode("utf-8-sig").count("\n") == 5
    assert purge_expired(today=datetime.date(2026, 11, 20))["archives"] == 1
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/extracts/")["KeyCount"] == 0


def test_s3_selected_by_the_environment():
    backend = _private_backend(PRIVATE_STORAGE="s3", PRIVATE_S3_BUCKET=BUCKET)
    assert backend.endswith("PrivateS3Storage")
    assert "PRIVATE_S3_BUCKET" in _private_backend(PRIVATE_STORAGE="s3")  # bucket required
