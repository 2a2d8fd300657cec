"""Real X.509 material for tests: a cluster CA and certificates it signs (cryptography, EC P-256)."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Issued:
    cert_pem: bytes
    key_pem: bytes

    @property
    def cert_b64(self) -> str:
        return base64.b64encode(self.cert_pem).decode()

    @property
    def key_b64(self) -> str:
        return base64.b64encode(self.key_pem).decode()


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
    )


class CertificateAuthority:
    """A self-signed CA valid for a day, like the one kubeadm creates for a cluster."""

    def __init__(self, common_name: str = "kubernetes") -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        name = _name(common_name)
        self._cert = (
            _builder(name, name, self._key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )

    @property
    def cert_b64(self) -> str:
        """The CA as admin.conf carries it (certificate-authority-data)."""
        return base64.b64encode(self._cert.public_bytes(serialization.Encoding.PEM)).decode()

    def issue(self, common_name: str, ip: str | None = None) -> Issued:
        """A certificate signed by this CA (with `ip` as its only subject alternative name, if given)."""
        key = ec.generate_private_key(ec.SECP256R1())
        builder = _builder(_name(common_name), self._cert.subject, key.public_key())
        if ip:
            san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))])
            builder = builder.add_extension(san, critical=False)
        cert = builder.sign(self._key, hashes.SHA256())
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return Issued(cert.public_bytes(serialization.Encoding.PEM), key_pem)
