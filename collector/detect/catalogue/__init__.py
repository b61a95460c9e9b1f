"""The signature catalogue: remote-control tools, IP-KVM and other hardware, network hints.

Signatures are data (docs/design.md): JSON files in `collector/signatures/`, each an object with
`"schema": 1`, a `"kind"` and one list of entries:

| kind           | list key          | one entry is                                              |
| -------------- | ----------------- | --------------------------------------------------------- |
| `remote_tools` | `tools`           | a remote-control / RMM / tunnel / VPN tool (per-OS names)  |
| `hardware`     | `devices`         | one USB or EDID identity of a KVM, capture chip, jiggler…  |
| `network`      | `proxy_ports`, `forwarding_interfaces` | proxy ports, benign forwarding bridges |
| `context`      | `input_languages` | keyboard/IME markers (info only)                          |

A folder may hold several files of one kind (a company can add `local_tools.json`); ids must
stay unique across them. Every entry names its `source`.

`load_catalogue()` validates, then builds the lookup indexes the rules use. Names are
compared after `normalise_name` (case-folded, `.exe`/`.app` dropped), USB ids as 4 lowercase
hex digits, PNP ids upper-case, so reports from other tools match however they spell them.

Modules: `clean` (name/id/path normalisation), `model` (entries and vocabulary), `validate`
(per-field checks of a parsed file), `index` (`Catalogue` and its lookups), `build` (documents to
`Catalogue`), `load` (reading a folder, caching the bundled catalogue).
"""

from farmwatch.collector.detect.catalogue.clean import (is_own_folder, normalise_hex, normalise_name, normalise_path,
                                                        normalise_text, parse_product_code, path_matches)
from farmwatch.collector.detect.catalogue.build import launchd_labels
from farmwatch.collector.detect.catalogue.index import Catalogue
from farmwatch.collector.detect.catalogue.load import BUNDLED, load_catalogue, validate_catalogue
from farmwatch.collector.detect.catalogue.model import OSES, CatalogueError, EdidIdentity, Hardware, Tool, UsbIdentity

__all__ = [
    "BUNDLED", "OSES", "Catalogue", "CatalogueError", "EdidIdentity", "Hardware", "Tool", "UsbIdentity",
    "is_own_folder", "launchd_labels", "load_catalogue", "normalise_hex", "normalise_name", "normalise_path",
    "normalise_text", "parse_product_code", "path_matches", "validate_catalogue",
]
