"""The files a scenario runs on: a deployed version's whole bundle, or a draft's edits over it.

A version pins its parts (lanes, parameters, scenarios...) by reference, possibly to files of an
earlier deployment, and reads forms as deployed up to its own deployment. To run it again on a
throwaway engine, the bundle is rebuilt the same way: every file deployed up to the version's
deployment, the newest of each name, with the version's own diagram and its pinned parts on top.
"""

from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import func, select

from engine.deploy import parts
from engine.deploy.versions import BundleFile
from engine.store.models import Definition, DeployedFile


def version_bundle(session: Any, definition: Definition) -> dict[str, str]:
    """File name -> text of everything ``definition`` runs with."""
    newest = (select(func.max(DeployedFile.id)).where(DeployedFile.deployment_id <= definition.deployment_id)
              .group_by(DeployedFile.name))
    texts = {name: content for name, content in session.execute(
        select(DeployedFile.name, DeployedFile.content).where(DeployedFile.id.in_(newest))).all()}
    pinned = [p.file_id for p in parts.stored_parts(session, definition.id).values()] + [definition.file_id]
    for name, content in session.execute(select(DeployedFile.name, DeployedFile.content)
                                         .where(DeployedFile.id.in_(pinned))).all():
        texts[name] = content
    return texts


def scenarios_of(texts: Mapping[str, str], key: str) -> dict[str, str]:
    """The scenarios of procedure ``key`` in a bundle, by file name (``x.toml``)."""
    prefix = f"{parts.SCENARIOS}{key}/"
    return {name.removeprefix(prefix): text for name, text in sorted(texts.items()) if name.startswith(prefix)}


def as_files(texts: Mapping[str, str]) -> list[BundleFile]:
    return [BundleFile(name, text.encode("utf-8")) for name, text in sorted(texts.items())]
