"""The cluster's TLS material, made with the openssl command: a CA, and a key and a
certificate signed by it per server for 127.0.0.1, localhost, the server's name and, with
--netns, the address it is reached at."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .processes import HOST, ClusterError

CERTIFICATE_DAYS = 825


def make_ca(tls: Path) -> Path:
    """tls/ca.crt (and ca.key), made once."""
    key, cert = tls / "ca.key", tls / "ca.crt"
    if not cert.is_file():
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-days", str(CERTIFICATE_DAYS), "-subj",
                 "/CN=Portico local cluster CA", "-keyout", str(key), "-out", str(cert),
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        os.chmod(key, 0o600)
    return cert


def server_certificate(tls: Path, name: str, address: str = HOST) -> None:
    """tls/NAME.key and tls/NAME.crt, signed by the CA, made once per set of names
    (tls/NAME.names: a run on loopback after one with --netns makes it again)."""
    key, cert, names = tls / f"{name}.key", tls / f"{name}.crt", tls / f"{name}.names"
    alt_names = ",".join(dict.fromkeys([f"IP:{HOST}", f"IP:{address}", "DNS:localhost",
                                        f"DNS:{name}"]))
    if cert.is_file() and key.is_file() and names.is_file() and names.read_text() == alt_names:
        return
    request = tls / f"{name}.csr"
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(request),
             "-addext", f"subjectAltName={alt_names}")
    _openssl("x509", "-req", "-in", str(request), "-CA", str(tls / "ca.crt"), "-CAkey",
             str(tls / "ca.key"), "-CAcreateserial", "-days", str(CERTIFICATE_DAYS),
             "-copy_extensions", "copy", "-extfile", "/dev/stdin", "-out", str(cert),
             input="basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n")
    request.unlink()
    os.chmod(key, 0o600)
    names.write_text(alt_names)


def _openssl(*args: str, input: str | None = None) -> None:
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, input=input)
    if result.returncode != 0:
        raise ClusterError(f"openssl {args[0]} failed: {result.stderr}")


