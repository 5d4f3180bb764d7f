"""The Python half of scripts/conformance: the credentials the Node half saved, verified with the
`sd-jwt` reference implementation (its SDJWTVerifier, the issuer key resolved from the SD-JWT VC
issuer metadata of `iss` by `kid`), and /openapi.json checked by openapi-spec-validator. Every
check appends one JSON line to WORK/results.jsonl.

    python checks.py BASE WORK
"""

import base64
import json
import sys
import urllib.parse
import urllib.request
from importlib.metadata import version

from jwcrypto.jwk import JWK
from openapi_spec_validator import validate
from sd_jwt.verifier import SDJWTVerifier

BASE, WORK = sys.argv[1], sys.argv[2]
SD_JWT = f"sd-jwt {version('sd-jwt')}"
OSV = f"openapi-spec-validator {version('openapi-spec-validator')}"


def record(lib, check, ok, detail=""):
    with open(f"{WORK}/results.jsonl", "a") as out:
        out.write(json.dumps({"lib": lib, "check": check, "ok": bool(ok), "detail": str(detail)}) + "\n")
    print(f"{'PASS' if ok else 'FAIL'}  {lib}: {check}{f' ({detail})' if detail else ''}", file=sys.stderr)


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as res:
        return json.load(res)


def issuer_key(iss, header):
    """The issuer's key: metadata at /.well-known/jwt-vc-issuer + the path of iss, by kid."""
    url = urllib.parse.urlsplit(iss)
    metadata = get_json(f"{url.scheme}://{url.netloc}/.well-known/jwt-vc-issuer{url.path.rstrip('/')}")
    if metadata.get("issuer") != iss:
        raise ValueError(f"issuer metadata names {metadata.get('issuer')!r}, not iss {iss!r}")
    for key in metadata["jwks"]["keys"]:
        if key.get("kid") == header.get("kid"):
            return JWK.from_json(json.dumps(key))
    raise ValueError(f"kid {header.get('kid')!r} not in the issuer's jwks")


def verify(presentation):
    return SDJWTVerifier(presentation, issuer_key).get_verified_payload()


full = open(f"{WORK}/credential.txt").read().strip()
named = open(f"{WORK}/credential-holder_name.txt").read().strip()

try:
    claims = verify(full)
    if "holder_name" in claims:
        raise ValueError("holder_name disclosed without ?disclose")
    record(SD_JWT, "SDJWTVerifier: credential signature (iss metadata + kid) and disclosures", True,
           f"vct {claims.get('vct')}")
except Exception as err:  # noqa: BLE001 - any error is the check's failure
    record(SD_JWT, "SDJWTVerifier: credential signature (iss metadata + kid) and disclosures", False, repr(err))

try:
    claims = verify(named)
    if not claims.get("holder_name"):
        raise ValueError(f"no holder_name in {sorted(claims)}")
    record(SD_JWT, "SDJWTVerifier of ?disclose=holder_name: holder_name disclosed", True,
           f"holder_name {claims['holder_name']!r}")
except Exception as err:  # noqa: BLE001
    record(SD_JWT, "SDJWTVerifier of ?disclose=holder_name: holder_name disclosed", False, repr(err))

# One character of the payload changed (the last digit of card_number, in the decoded JSON,
# re-encoded): still well-formed, but the signature no longer covers it.
jwt, rest = full.split("~", 1)
h, p, s = jwt.split(".")
payload = base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode()
number = json.loads(payload)["card_number"]
at = payload.index(number) + len(number) - 1
payload = payload[:at] + ("2" if payload[at] == "1" else "1") + payload[at + 1:]
p = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
tampered = ".".join([h, p, s]) + "~" + rest
try:
    verify(tampered)
    record(SD_JWT, "SDJWTVerifier refuses a tampered credential (one character of card_number changed)", False, "accepted")
except Exception as err:  # noqa: BLE001
    record(SD_JWT, "SDJWTVerifier refuses a tampered credential (one character of card_number changed)", True, f"refused: {err!r}")

try:
    validate(get_json(f"{BASE}/openapi.json"))
    record(OSV, "validate(/openapi.json)", True)
except Exception as err:  # noqa: BLE001
    record(OSV, "validate(/openapi.json)", False, str(err).splitlines()[0])
