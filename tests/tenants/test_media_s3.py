"""Media in an S3-compatible bucket: MEDIA_S3_BUCKET alone moves every file there.

The bucket is moto's S3 server, a real HTTP server speaking S3's protocol on loopback (no
bucket service can be reached from here); boto3 and django-storages talk to it exactly as
they would to AWS or MinIO.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest
from django.core.management import call_command
from moto.server import ThreadedMotoServer

from tenants.media import media_delete_tenant, media_store
from tenants.models import MessageLog, Tenant
from tenants.services import message_log_record
from tests.helpers.clients import signed_in
from workers.simulator.media import sample

BASE_DIR = Path(__file__).resolve().parents[2]
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bakery-key",
    "AWS_SECRET_ACCESS_KEY": "bakery-secret",
    "AWS_DEFAULT_REGION": "eu-west-1",
}


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, monkeypatch):
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    name = f"media-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name=CREDENTIALS["AWS_DEFAULT_REGION"])
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return s3, name


def objects(bucket) -> list[str]:
    s3, name = bucket
    return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=name).get("Contents", []))


@pytest.fixture
def s3_storage(bucket, s3_endpoint, settings, tmp_path):
    """The storage the settings build from MEDIA_S3_BUCKET, in this process."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket[1],
                "endpoint_url": s3_endpoint,
                "default_acl": "private",
                "file_overwrite": True,
            },
        },
    }
    return bucket


def received(tenant: Tenant, item, n: int = 0) -> MessageLog:
    stored = media_store(tenant=tenant, data=item.data, claimed_type=item.mimetype, file_name=item.filename)
    log, _ = message_log_record(
        tenant=tenant,
        direction=MessageLog.Direction.IN,
        from_number="15551234567",
        to_number="",
        text="",
        wa_message_id=f"m{n}",
        message_type=item.type,
        **stored.log_fields(),
    )
    return log


def test_naming_a_bucket_is_the_only_setting_that_moves_files_there(bucket, s3_endpoint, tmp_path):
    # The real settings module, as a deployment loads it: nothing but the documented variables.
    env = {
        **os.environ,
        **CREDENTIALS,
        "MEDIA_S3_BUCKET": bucket[1],
        "AWS_S3_ENDPOINT_URL": s3_endpoint,
        "MEDIA_ROOT": str(tmp_path / "local"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    script = (
        "import django, uuid; django.setup()\n"
        "from tenants.media import media_store\n"
        "from tenants.models import Tenant\n"
        "from workers.simulator.media import sample\n"
        "photo = sample('image')\n"
        "tenant = Tenant(id=uuid.UUID('00000000-0000-4000-8000-000000000001'), name='Acme Bakery')\n"
        "stored = media_store(tenant=tenant, data=photo.data, claimed_type='image/png', file_name='c.png')\n"
        "print(stored.file)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )

    assert run.returncode == 0, run.stderr
    name = run.stdout.strip().splitlines()[-1]
    assert name.startswith("media/00000000-0000-4000-8000-000000000001/")
    assert objects(bucket) == sorted([name, name.replace(".png", "_thumb.jpg")])
    assert not (tmp_path / "local").exists()  # nothing on the local disk
    s3, bucket_name = bucket
    grants = s3.get_object_acl(Bucket=bucket_name, Key=name)["Grants"]
    assert [grant["Grantee"].get("URI") for grant in grants] == [None]  # the owner's alone: not public


def test_the_tenant_downloads_a_file_kept_in_the_bucket_and_another_tenant_cannot(
    s3_storage, tenant, tenant_user, other_tenant
):
    pdf = sample("document")
    log = received(tenant, pdf)
    assert objects(s3_storage) == [log.media_file.name]

    client = signed_in(tenant_user)
    response = client.get(f"/portal/messages/{log.id}/file")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf.data
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/pdf"
    other = received(other_tenant, sample("image"), n=1)
    assert client.get(f"/portal/messages/{other.id}/file").status_code == 404


def test_a_file_gone_from_the_bucket_is_a_404_not_a_broken_download(s3_storage, tenant, tenant_user):
    log = received(tenant, sample("document"))
    s3, name = s3_storage
    s3.delete_object(Bucket=name, Key=log.media_file.name)

    client = signed_in(tenant_user)

    assert client.get(f"/portal/messages/{log.id}/file").status_code == 404


def test_a_purge_and_a_tenants_deletion_remove_its_objects_from_the_bucket(s3_storage, tenant, other_tenant):
    from datetime import timedelta

    from django.utils import timezone

    old = received(tenant, sample("image"), n=1)
    kept = received(tenant, sample("document"), n=2)
    others = received(other_tenant, sample("ptt"), n=3)
    MessageLog.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))

    call_command("purge_message_logs", "--older-than", "30")

    assert objects(s3_storage) == sorted([kept.media_file.name, others.media_file.name])

    assert media_delete_tenant(tenant.id) == 1

    assert objects(s3_storage) == [others.media_file.name]
