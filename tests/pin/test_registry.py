"""The registry client against a loopback registry speaking API v2 and the Bearer token flow."""

from __future__ import annotations

import base64
import json

import pytest

from llmkube_iac.pin.registry import RegistryClient, RegistryError, docker_credentials, parse_reference
from tests.support.fake_registry import OCI_INDEX, FakeRegistry


@pytest.fixture
def registry():
    reg = FakeRegistry().start()
    yield reg
    reg.stop()


def manifest(n: int) -> dict:
    return {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "size": n,
            "digest": "sha256:" + f"{n:064x}",
        },
        "layers": [],
    }


def client(reg, **kw):
    return RegistryClient(plain_http=(reg.host,), timeout=5, **kw)


@pytest.mark.parametrize(
    "image, expected",
    [
        ("nginx", ("docker.io", "library/nginx", "latest", None)),
        ("ghcr.io/ggml-org/llama.cpp:server-b6710", ("ghcr.io", "ggml-org/llama.cpp", "server-b6710", None)),
        ("127.0.0.1:5000/mirror/ghcr.io/a/b:1", ("127.0.0.1:5000", "mirror/ghcr.io/a/b", "1", None)),
        ("org/app:2@sha256:" + "a" * 64, ("docker.io", "org/app", "2", "sha256:" + "a" * 64)),
    ],
)
def test_references_are_parsed_the_way_a_container_runtime_does(image, expected):
    ref = parse_reference(image)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == expected


@pytest.mark.parametrize("image", ["", "Upper/Case:1", "a/b:bad tag", "a/b@sha256:short", "a//b:1"])
def test_malformed_references_are_refused_by_name(image):
    with pytest.raises(ValueError, match="not an image reference"):
        parse_reference(image)


def test_anonymous_token_flow_returns_the_digest_of_the_manifest_bytes(registry):
    digest = registry.push("mirror/app", "1.0", manifest(1))
    other = registry.push("mirror/app", "2.0", manifest(2))
    c = client(registry)
    assert c.digest(f"{registry.host}/mirror/app:1.0") == digest
    assert c.digest(f"{registry.host}/mirror/app:2.0") == other != digest
    methods = [(m, p, a) for m, p, a in registry.requests]
    assert methods[0] == ("HEAD", "/v2/mirror/app/manifests/1.0", None)  # unauthenticated first: 401
    assert ("GET", "/token", None) in methods and ("HEAD", "/v2/mirror/app/manifests/1.0", "Bearer") in methods
    assert not [m for m in methods if m[0] == "GET" and "manifests" in m[1]]  # HEAD was enough


def test_index_manifests_and_the_access_token_field(registry):
    registry.token_field = "access_token"
    digest = registry.push(
        "mirror/multi", "1", {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}, OCI_INDEX
    )
    assert client(registry).digest(f"{registry.host}/mirror/multi:1") == digest


def test_head_without_the_header_is_answered_by_hashing_the_manifest(registry):
    digest = registry.push("mirror/app", "1", manifest(3))
    registry.omit_head_digest = True
    assert client(registry).digest(f"{registry.host}/mirror/app:1") == digest
    registry.lie_digest = True
    with pytest.raises(RegistryError, match="hashes to"):
        client(registry).digest(f"{registry.host}/mirror/app:1")


def test_credentials_come_from_the_docker_config(tmp_path):
    reg = FakeRegistry(users={"robot": "s3cret"}).start()
    try:
        digest = reg.push("mirror/private", "1", manifest(4))
        image = f"{reg.host}/mirror/private:1"
        with pytest.raises(RegistryError, match="refused"):
            client(reg).digest(image)
        config = tmp_path / "config.json"
        config.write_text(json.dumps({"auths": {reg.host: {"auth": base64.b64encode(b"robot:s3cret").decode()}}}))
        assert client(reg, credentials=docker_credentials(config)).digest(image) == digest
        config.write_text(json.dumps({"auths": {reg.host: {"auth": base64.b64encode(b"robot:wrong").decode()}}}))
        with pytest.raises(RegistryError, match="refused"):
            client(reg, credentials=docker_credentials(config)).digest(image)
    finally:
        reg.stop()


def test_unknown_images_and_unreachable_registries_are_errors_never_digests(registry):
    with pytest.raises(RegistryError, match="no such manifest"):
        client(registry).digest(f"{registry.host}/mirror/missing:1")
    from tests.support.loopback import free_port

    port = free_port()  # nothing listens there
    with pytest.raises(RegistryError, match="unreachable"):
        RegistryClient(plain_http=(f"127.0.0.1:{port}",), timeout=2).digest(f"127.0.0.1:{port}/a/b:1")


def test_credentials_are_never_sent_to_a_plain_http_token_service_not_named(registry):
    registry.push("mirror/app", "1", manifest(5))
    registry.realm_host = "tokens.invalid:80"  # refused before any connection is made
    c = RegistryClient(plain_http=(registry.host,), credentials={registry.host: ("u", "p")}, timeout=5)
    with pytest.raises(RegistryError, match="credentials are not sent"):
        c.digest(f"{registry.host}/mirror/app:1")
