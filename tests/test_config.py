from pathlib import Path

import pytest

from generator.site.config import load_site, parse_site
from generator.site.problems import InvalidInput


def problems_of(text: str) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        parse_site(text, root=Path("."))
    return [str(p) for p in caught.value.problems]


def test_demo_site_loads_with_groups_checks_and_links():
    site = load_site(Path(__file__).resolve().parent.parent)
    assert site.info.title == "Northwind Pay Status"
    assert site.info.timezone == "Europe/Berlin"
    assert 6 <= len(site.components) <= 10
    assert len({c.group for c in site.components}) == 3
    assert any(c.is_manual for c in site.components) and any(not c.is_manual for c in site.components)
    assert [link.label for link in site.info.links] == ["Support", "Docs", "Home"]


def test_defaults_and_base_url_normalised():
    site = parse_site("site: {title: T, base_url: 'https://x.github.io/repo'}\ncomponents: []\n", root=Path("."))
    assert site.info.base_url == "https://x.github.io/repo/"
    assert site.info.base_path == "/repo/"
    assert site.info.custom_domain is None
    assert (site.info.timezone, site.info.language, site.info.theme) == ("UTC", "en", "auto")
    assert site.display.uptime_days == 90 and site.history.raw_days == 14


def test_custom_domain_gets_cname_host():
    site = parse_site("site: {title: T, base_url: 'https://status.acme.com/'}\ncomponents: []\n", root=Path("."))
    assert site.info.custom_domain == "status.acme.com"


def test_unknown_key_is_located_with_suggestion():
    text = "site:\n  title: T\n  base_url: https://s.example/\n  timezon: UTC\ncomponents: []\n"
    assert problems_of(text) == [
        'site.yaml:4:3: error: unknown key "timezon" in site (did you mean "timezone"?); allowed keys: '
        "title, description, base_url, logo, timezone, language, languages, theme, links"
    ]


def test_every_error_is_collected_not_just_the_first():
    text = """\
site:
  title: T
  base_url: ftp://nope
  timezone: Mars/Olympus
  theme: purple
components:
  - id: API
    name: API
  - id: web
    name: Web
  - id: web
    name: Web again
    show_uptime: maybe
  - name: No id
"""
    found = problems_of(text)
    assert found[0].startswith("site.yaml:3:13: error: base_url must be an absolute http(s) URL")
    assert found[1].startswith("site.yaml:4:13: error: unknown time zone 'Mars/Olympus'")
    assert "use an IANA name" in found[1]
    assert found[2].startswith("site.yaml:5:10: error: \"theme\" must be one of auto, light, dark, not 'purple'")
    assert found[3].startswith("site.yaml:7:9: error: component id 'API' must be a slug")
    assert "try 'api'" in found[3]
    assert found[4].startswith('site.yaml:11:9: error: duplicate component id "web" (first used by component #2)')
    assert found[5].startswith('site.yaml:13:18: error: "show_uptime" must be true or false')
    assert found[6].startswith('site.yaml:14:5: error: component #4 is missing the required key "id"')
    assert len(found) == 7


def test_missing_sections_and_wrong_types():
    found = problems_of("site: just a string\n")
    assert found == [
        'site.yaml:1:1: error: site.yaml is missing the required key "components"; add `components: ...`',
        "site.yaml:1:7: error: site must be a mapping of keys to values, not text",
    ]


def test_bad_link_and_wrong_type_name():
    found = problems_of("site:\n  title: T\n  base_url: https://s.example/\n  links: {docs: not-a-url}\n"
                        "components:\n  - id: a\n    name: [1, 2]\n")
    assert found == [
        "site.yaml:4:17: error: link 'docs' must be an absolute http(s) or mailto: URL, not 'not-a-url'",
        'site.yaml:7:11: error: "name" must be text, not a list',
    ]


def test_yaml_syntax_error_is_located():
    found = problems_of("site:\n  title: [unclosed\ncomponents: []\n")
    assert found[0].startswith("site.yaml:3:")
    assert "YAML syntax error" in found[0]


def test_missing_site_yaml_says_what_to_do(tmp_path):
    with pytest.raises(InvalidInput) as caught:
        load_site(tmp_path)
    assert "heliograph init" in str(caught.value)


def test_check_errors_are_located_inside_the_component():
    text = """\
site: {title: T, base_url: "https://s.example/"}
components:
  - id: api
    name: API
    check:
      type: http
      url: https://api.example/health
      timeot: 5s
"""
    found = problems_of(text)
    assert len(found) == 1
    assert found[0].startswith('site.yaml:8:7: error: unknown key "timeot"')
    assert 'did you mean "timeout"' in found[0]


def test_raw_days_too_few_for_the_latency_chart_is_an_error_saying_why(tmp_path):
    (tmp_path / "site.yaml").write_text("site: {title: T, base_url: 'https://s.example/'}\n"
                                        "history: {raw_days: 3}\ncomponents: []\n")
    with pytest.raises(InvalidInput) as caught:
        load_site(tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        'site.yaml:2:21: error: "raw_days" must be at least 7: the latency chart is drawn from the last 7 days of '
        "raw results, and compacting them would cut it short; raise it, or leave it out for the default (14)"]


def test_the_fewest_raw_days_are_the_latency_charts():
    from generator.site.config import MIN_RAW_DAYS
    from generator.history.rollup import LATENCY_SERIES_DAYS

    assert MIN_RAW_DAYS == LATENCY_SERIES_DAYS


def test_an_unknown_language_suggests_the_tag_it_most_likely_meant():
    def suggestion(tag):
        [problem] = problems_of(f"site:\n  title: T\n  base_url: https://s.example/\n  language: {tag}\ncomponents: []\n")
        return problem.split("unknown language ", 1)[1].split(";")[0]

    assert suggestion("dee") == "'dee' (did you mean \"de\"?)"
    assert suggestion("pt-BRR") == "'pt-BRR' (did you mean \"pt-BR\"?)"
    assert suggestion("jaa") == "'jaa' (did you mean \"ja\"?)"
    assert suggestion("xq") == "'xq' (did you mean \"xdq\"?)"  # no known tag it starts with: the closest


def test_languages_put_the_first_at_the_root_and_name_each_mistake_where_it_is():
    site = parse_site("site: {title: T, base_url: 'https://s.example/', languages: [de, pt-BR, ar]}\n"
                      "components: []\n", root=Path("."))
    assert site.info.language == "de" and site.info.page_languages == ("de", "pt-BR", "ar")
    assert [site.info.language_prefix(tag) for tag in site.info.page_languages] == ["", "pt-br/", "ar/"]
    assert problems_of("site:\n  title: T\n  base_url: https://s.example/\n  language: fr\n"
                       "  languages: [en, dee, DE, de]\ncomponents: []\n") == [
        "site.yaml:4:13: error: language 'fr' must be the first of languages, 'en': the first is the one served at the root",
        "site.yaml:5:19: error: unknown language 'dee' (did you mean \"de\"?); "
        "use a language tag such as \"de\", \"ar\" or \"pt-BR\"",
        "site.yaml:5:28: error: language 'de' is listed twice",
    ]
