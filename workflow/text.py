"""Plain-text views for a terminal: how `show` and the benefits register read as text."""

from __future__ import annotations

from typing import Any


def collaboration_text(c: dict[str, Any]) -> str:
    """The `show` view as text."""
    lines = [
        f"{c['key']}: {c['title']}",
        f"  stage       {c['stage']} since {c['since']} ({c['definition']} v{c['definition_version']})"
        + (f", held from {c['held_from']}" if c["held_from"] else ""),
        f"  origin      {c['origin']}; programme manager {c['manager']}",
        f"  objective   {c['objective'] or '-'}",
        f"  public benefit  {c['public_benefit'] or '-'}",
        f"  rationale   {c['rationale'] or '-'}",
    ]
    if c["pir_due"]:
        lines.append(f"  closed      {c['closed_on']}; PIR due {c['pir_due']}")
    lines.append("  partners")
    for p in c["partners"] or [{"name": "(none)", "kind": "", "risk_appetite": None, "cost_share": None}]:
        share = f"{p['cost_share']:g}%" if p["cost_share"] is not None else "-"
        lines.append(f"    {p['name']:<32} {p['kind']:<16} appetite {p['risk_appetite'] or '-':<9} share {share}")
    lines.append("  artefacts")
    lines += [f"    {a['kind']:<32} {a['ref']} ({a['on']}){' sha256 ' + a['sha256'] if a['sha256'] else ''}"
              for a in c["artefacts"]] or ["    (none)"]
    lines.append("  approvals")
    lines += [f"    {a['gate']:<10} {a['partner']} {a['role']} ({a['on']})" for a in c["approvals"]] or ["    (none)"]
    lines.append("  benefits")
    lines += [
        f"    {b['id']:<5} {b['category']:<14} {b['status']:<9} {b['title']}" + (" [dis-benefit]" if b.get("dis_benefit") else "")
        + (f" (boards: {', '.join(b['boards'])})" if b["boards"] else "")
        for b in c["benefits"]
    ] or ["    (none)"]
    counts = c["realisation"]["benefits"]
    lines.append("  realisation " + ", ".join(f"{n} {status}" for status, n in counts.items() if n) if any(counts.values()) else "  realisation -")
    if any(c["realisation"]["dis_benefits"].values()):
        lines.append("  dis-benefits " + ", ".join(f"{n} {s}" for s, n in c["realisation"]["dis_benefits"].items() if n))
    if c["realisation"]["savings"]:
        lines.append("  savings     " + "; ".join(f"{p} {v:,.2f}" for p, v in c["realisation"]["savings"].items()))
    return "\n".join(lines)


def realisation_row(row: dict[str, Any]) -> dict[str, Any]:
    """A benefits-register row with its figures as text."""
    unit = f" {row['unit']}" if row["unit"] else ""
    handover = row["handover"]
    return {
        **row,
        "latest": f"{row['latest']:g}{unit} ({row['latest_on']})" if row["latest"] is not None else "-",
        "target": f"{row['target']:g}{unit}" if row["target"] is not None else "-",
        "progress": f"{row['progress']:.0%}" if row["progress"] is not None else "-",
        "planned": f"{row['planned']:g}" if row["planned"] is not None else "-",
        "handover": f"{handover['status']} ({handover['to']})" if handover else "-",
        "boards": ", ".join(row["boards"]) or "-",
    }
