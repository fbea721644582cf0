"""Put this folder on PYTHONPATH to make `<anything>.localhost` resolve to 127.0.0.1 (RFC 6761; systemd-resolved and
curl do the same), as wildcard DNS for an Airlock host name would. S3 Control's clients put the account id in front of
the endpoint's host (`123456789012.localhost:<port>`); without this the AWS CLI and boto3 could not reach a local edge."""

import socket

_getaddrinfo = socket.getaddrinfo


def _wildcard_localhost(host, *args, **kwargs):
    if isinstance(host, str) and host.endswith('.localhost'):
        host = '127.0.0.1'
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _wildcard_localhost
