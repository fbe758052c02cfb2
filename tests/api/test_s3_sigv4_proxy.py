"""The SigV4 checker of the tests' S3 proxy (s3_sigv4_proxy.py) against AWS's published
examples of Signature Version 4 for S3 (the "Authenticating Requests: Using the
Authorization Header" examples: GET Object with a Range, GET Bucket with a query), so the
S3 tests check the dossier service's signatures with a signer known to be right."""
from __future__ import annotations

import hashlib

from s3_sigv4_proxy import check, signature

SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
ACCESS = 'AKIAIOSFODNN7EXAMPLE'
SCOPE = '20130524/us-east-1/s3/aws4_request'
EMPTY = hashlib.sha256(b'').hexdigest()
HEADERS = {'host': 'examplebucket.s3.amazonaws.com', 'x-amz-date': '20130524T000000Z',
           'x-amz-content-sha256': EMPTY}


def test_get_object_example():
    headers = dict(HEADERS, range='bytes=0-9')
    assert signature('GET', '/test.txt', '', headers, ['host', 'range', 'x-amz-content-sha256', 'x-amz-date'],
                     EMPTY, SECRET, '20130524T000000Z', SCOPE) \
        == 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41'


def test_list_objects_example():
    assert signature('GET', '/', 'max-keys=2&prefix=J', HEADERS, ['host', 'x-amz-content-sha256', 'x-amz-date'],
                     EMPTY, SECRET, '20130524T000000Z', SCOPE) \
        == '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7'


def test_check_accepts_the_example_and_refuses_changes():
    sig = 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41'
    auth = (f'AWS4-HMAC-SHA256 Credential={ACCESS}/{SCOPE},'
            f'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature={sig}')
    headers = dict(HEADERS, range='bytes=0-9', authorization=auth)
    assert check('GET', '/test.txt', headers, b'', ACCESS, SECRET) is None
    assert check('GET', '/test.txt', headers, b'', ACCESS, 'other secret') == 'signature mismatch'
    assert check('GET', '/other.txt', headers, b'', ACCESS, SECRET) == 'signature mismatch'
    assert check('GET', '/test.txt', dict(headers, range='bytes=0-99'), b'', ACCESS, SECRET) \
        == 'signature mismatch'
    assert check('GET', '/test.txt', headers, b'a body', ACCESS, SECRET) \
        == 'the payload does not match x-amz-content-sha256'
    assert check('GET', '/test.txt', dict(headers, authorization='AWS AKIA:abc'), b'', ACCESS, SECRET) \
        == 'not signed with AWS4-HMAC-SHA256'
