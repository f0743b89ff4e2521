#!/usr/bin/env python3
"""Generates the .mylogin.cnf fixtures used by LoginPathFileTests.

An implementation independent of the Swift one: AES comes from the `cryptography` package
(python3-cryptography), the layout from MySQL's client/mysql_config_editor.cc:

    4 unused bytes (zero) | 20-byte key buffer | records...
    record = 4-byte little-endian length | AES-128-ECB(PKCS#7(line + "\n"))
    AES key = the 20 key bytes XOR-folded into 16 (byte i into key[i % 16]).

Run from anywhere:  python3 Tests/MariaDBTests/Fixtures/make_mylogin_fixtures.py
The output is deterministic (fixed keys), so re-running it must not change the committed files.
All passwords here are test values, not real credentials.
"""

import os
import struct

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

HERE = os.path.dirname(os.path.abspath(__file__))


def aes_key(file_key: bytes) -> bytes:
    key = bytearray(16)
    for index, byte in enumerate(file_key):
        key[index % 16] ^= byte
    return bytes(key)


def encrypt_file(lines, file_key: bytes) -> bytes:
    assert len(file_key) == 20
    out = bytearray(b"\0\0\0\0" + file_key)
    for line in lines:
        padder = padding.PKCS7(128).padder()
        padded = padder.update(line.encode("utf-8") + b"\n") + padder.finalize()
        encryptor = Cipher(algorithms.AES(aes_key(file_key)), modes.ECB()).encryptor()
        cipher = encryptor.update(padded) + encryptor.finalize()
        out += struct.pack("<i", len(cipher)) + cipher
    return bytes(out)


def quoted(value: str) -> str:
    """As mysql_config_editor (MySQL 8) quotes, plus \\\\, \\n and \\r so every value reads back unchanged."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return '"' + escaped + '"'


def mysql8_lines(paths):
    """Lines in mysql_config_editor's order: user, password, host, socket, port."""
    lines = []
    for path in paths:
        lines.append("[%s]" % path["name"])
        for option in ("user", "password", "host", "socket"):
            if option in path:
                lines.append("%s = %s" % (option, quoted(path[option])))
        if "port" in path:
            lines.append("port = %d" % path["port"])
    return lines


# The login paths of mylogin-mysql8.cnf. LoginPathFileTests repeats these values.
MYSQL8_PATHS = [
    {"name": "client", "user": "ops", "password": "client pw", "host": "db.internal", "port": 3307},
    {
        "name": "aurora",
        "user": "admin",
        "password": "Au\"ro'ra\\p#w;d = é 🔑",
        "host": "aurora-cluster.cluster-abc123.eu-west-1.rds.amazonaws.com",
        "port": 3306,
    },
    {"name": "local", "user": "root", "socket": "/run/mysqld/mysqld.sock"},
    {"name": "empty-password", "user": "nobody", "password": ""},
    # "[sixteen-bytes]\n" is exactly one AES block, so its record carries a full block of padding.
    {"name": "sixteen-bytes", "user": "u"},
]

MYSQL8_KEY = bytes([3, 17, 29, 8, 0, 31, 14, 22, 5, 9, 27, 1, 30, 12, 19, 6, 24, 2, 11, 20])

# MySQL 5.6/5.7 mysql_config_editor wrote values without quotes. In a login path file a '#' does not start a
# comment, and spaces around '=' and at the ends of the value are trimmed.
LEGACY_LINES = [
    "[legacy]",
    "user = legacy_user",
    "password = p@ss#word ",
    "host = 127.0.0.1",
    "port = 3310",
    "[client]",
    "user = fallback",
    "password = 'single quoted'",
]

LEGACY_KEY = bytes(range(200, 220))


def main():
    with open(os.path.join(HERE, "mylogin-mysql8.cnf"), "wb") as handle:
        handle.write(encrypt_file(mysql8_lines(MYSQL8_PATHS), MYSQL8_KEY))
    with open(os.path.join(HERE, "mylogin-legacy.cnf"), "wb") as handle:
        handle.write(encrypt_file(LEGACY_LINES, LEGACY_KEY))
    for name in ("mylogin-mysql8.cnf", "mylogin-legacy.cnf"):
        os.chmod(os.path.join(HERE, name), 0o600)


if __name__ == "__main__":
    main()
