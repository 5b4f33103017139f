"""``SourceSpec``: everything the rest of the code knows of one external system."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from core.delta.errors import LOCAL_SOURCE
from core.delta.fields import FIELD_TYPES
from core.delta.mapping import EntityMapping, WireSchema
from core.errors import ConfigError
from core.sources.connector import ConnectorFactory

#: A source's key is written into SQL and URLs as it is: lower-case letters, digits and "_",
#: at most 16 characters (the width of the ``sync_type`` and ``source`` columns).
KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,15}")

#: Later: tells whether a webhook delivery is authentic, from its headers, its body and the
#: connector's webhook secret.
WebhookVerifier = Callable[[Mapping[str, str], bytes, str], bool]


@dataclass(frozen=True)
class CredentialField:
    """One value a connector signs in with; ``secret`` ones are kept out of every log line."""

    name: str
    label: str
    secret: bool = True


@dataclass(frozen=True)
class SourceOption:
    """A choice a connector takes beside its credentials (Odoo's protocol)."""

    name: str
    label: str
    choices: Mapping[str, str]  # value -> what the user reads
    default: str


@dataclass(frozen=True, eq=False)
class SourceSpec:
    """One external system: who it is, how to connect to it, how its records read.

    A spec is also the engine's ``RecordFormat`` of the source (``key``, ``label``,
    ``id_key``, ``mappings``, ``wire_schemas``).
    """

    key: str  # the sync_type of connectors, previews, the API and the CLI
    label: str  # "WooCommerce", as people read it
    icon: str
    connector: ConnectorFactory  # imports the HTTP client only when called
    credentials: tuple[CredentialField, ...]
    mappings: Mapping[str, EntityMapping]  # entity -> canonical field -> where it comes from
    id_key: str = "id"  # the key of a wire record's id
    # entity -> wire fields of its JSON pages, for the columnar reader (optional, for speed)
    wire_schemas: Mapping[str, WireSchema] = field(default_factory=dict)
    options: tuple[SourceOption, ...] = ()
    url_example: str = "https://example.com"
    # entity -> canonical field -> stored code -> the word people read ("sale" -> "Sales
    # order"); a code not listed is shown as it is
    value_words: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)
    # Room for what later issues add; a source that offers it says so here.
    incremental: bool = False  # its connector's iter_pages honours ``since``
    verify_webhook: WebhookVerifier | None = None

    @property
    def title(self) -> str:
        """Icon and label: "🛒 WooCommerce"."""
        return f"{self.icon} {self.label}"

    def word_for(self, entity_type: str, field_name: str, code: str) -> str | None:
        """The word people read for a stored code of a field ("Sales order"), or None."""
        return self.value_words.get(entity_type, {}).get(field_name, {}).get(code)

    def secrets_of(self, credentials: Mapping[str, str]) -> list[str]:
        """The values of the secret credential fields among ``credentials``."""
        return [credentials[f.name] for f in self.credentials if f.secret and f.name in credentials]

    def check(self) -> None:
        """Raise ``ConfigError`` unless the spec is complete (checked when registered)."""
        if not KEY_PATTERN.fullmatch(self.key) or self.key == LOCAL_SOURCE:
            raise ConfigError(
                f"A source's key must be 1 to 16 lower-case letters, digits and '_' (not "
                f"{LOCAL_SOURCE!r}); {self.key!r} is not."
            )
        for entity, types in FIELD_TYPES.items():
            mapped = self.mappings.get(entity)
            if mapped is None or set(mapped) != set(types):
                missing = sorted(set(types) - set(mapped or {}))
                extra = sorted(set(mapped or {}) - set(types))
                raise ConfigError(
                    f"The {self.label} source must map every {entity} field once "
                    f"(missing: {', '.join(missing) or 'none'}; unknown: "
                    f"{', '.join(extra) or 'none'})."
                )
