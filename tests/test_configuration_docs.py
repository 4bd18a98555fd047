"""docs/configuration.md is the binary's own reference, so the two cannot drift apart."""
import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent
BINARY = os.environ.get("PORTICO_BINARY", str(ROOT / "build" / "portico"))


def test_configuration_doc_lists_every_key_as_the_binary_documents_it():
    reference = subprocess.run([BINARY, "config", "reference"], capture_output=True, text=True,
                               check=True).stdout
    doc = (ROOT / "docs" / "configuration.md").read_text()
    assert reference.strip() in doc, (
        "docs/configuration.md is out of date: regenerate its table with "
        "`portico config reference`")
