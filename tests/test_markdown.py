"""Tests for web.markdown: Discord markdown -> sanitised HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from web.markdown import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_CLASSES,
    ALLOWED_TAGS,
    ChannelRef,
    UserRef,
    pygments_css,
    render_content,
    render_inline,
    to_plain_text,
)

REL = 'rel="nofollow noopener noreferrer ugc"'
USERS = {"123": UserRef("123", "alice", "Alice Smith"), "456": UserRef("456", "bob")}
CHANNELS = {"77": ChannelRef("77", "general"), "88": ChannelRef("88", "off-topic")}


def r(text: str, **kw: object) -> str:
    out = render_content(text, **kw)  # type: ignore[arg-type]
    assert isinstance(out, Markup)
    return str(out)


# --------------------------------------------------------------------------- inline formatting


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("**bold**", "<p><strong>bold</strong></p>"),
        ("*italic*", "<p><em>italic</em></p>"),
        ("_italic_", "<p><em>italic</em></p>"),
        ("__underline__", "<p><u>underline</u></p>"),
        ("~~strike~~", "<p><s>strike</s></p>"),
        ("`inline code`", "<p><code>inline code</code></p>"),
        ("`**not bold**`", "<p><code>**not bold**</code></p>"),
        ("***both***", "<p><em><strong>both</strong></em></p>"),
        ("___under italic___", "<p><em><u>under italic</u></em></p>"),
        ("**__bold under__**", "<p><strong><u>bold under</u></strong></p>"),
        ("*a **b** c*", "<p><em>a <strong>b</strong> c</em></p>"),
        ("~~**x**~~", "<p><s><strong>x</strong></s></p>"),
        ("snake_case_name", "<p>snake_case_name</p>"),
        (r"\*not italic\*", "<p>*not italic*</p>"),
        ("a < b & c > d", "<p>a &lt; b &amp; c &gt; d</p>"),
        ("&amp; stays literal", "<p>&amp;amp; stays literal</p>"),
    ],
)
def test_inline_formatting(src: str, expected: str) -> None:
    assert r(src) == expected


def test_spoiler() -> None:
    assert r("||secret||") == '<p><span class="spoiler" tabindex="0">secret</span></p>'


def test_spoiler_nested_formatting() -> None:
    assert r("||**bold** and *it*||") == (
        '<p><span class="spoiler" tabindex="0"><strong>bold</strong> and <em>it</em></span></p>'
    )
    assert r("**||in bold||**") == '<p><strong><span class="spoiler" tabindex="0">in bold</span></strong></p>'


def test_spoiler_edge_cases() -> None:
    assert r("||||") == "<p>||||</p>"
    assert r("|| unclosed") == "<p>|| unclosed</p>"
    assert r("a || b") == "<p>a || b</p>"
    assert r(r"\|\|escaped\|\|") == "<p>||escaped||</p>"


def test_line_breaks_are_kept() -> None:
    assert r("one\ntwo\nthree") == "<p>one<br>\ntwo<br>\nthree</p>"
    assert r("para one\n\npara two") == "<p>para one</p>\n<p>para two</p>"


# --------------------------------------------------------------------------- blocks


def test_headers() -> None:
    assert r("# One") == '<h3 class="md-h1">One</h3>'
    assert r("## Two") == '<h4 class="md-h2">Two</h4>'
    assert r("### Three") == '<h5 class="md-h3">Three</h5>'
    assert r("#### Four") == "<p>#### Four</p>"
    assert r("#NoSpace") == "<p>#NoSpace</p>"
    assert r("#") == "<p>#</p>"
    assert r("# **bold** head") == '<h3 class="md-h1"><strong>bold</strong> head</h3>'
    assert r("text\n# head") == '<p>text</p>\n<h3 class="md-h1">head</h3>'


def test_subtext() -> None:
    assert r("-# small print") == '<p class="subtext">small print</p>'
    assert r("body\n-# *small*") == '<p>body</p>\n<p class="subtext"><em>small</em></p>'
    assert r("-#nospace") == "<p>-#nospace</p>"


def test_block_quote_single_lines() -> None:
    assert r("> quoted") == "<blockquote>\n<p>quoted</p>\n</blockquote>"
    assert r("> one\n> two\nafter") == ("<blockquote>\n<p>one<br>\ntwo</p>\n</blockquote>\n<p>after</p>")
    # a quote needs "> "; ">text" is literal
    assert r(">nope") == "<p>&gt;nope</p>"
    # no nested quotes in Discord
    assert r("> > inner") == "<blockquote>\n<p>&gt; inner</p>\n</blockquote>"
    assert r("before\n> **q**") == "<p>before</p>\n<blockquote>\n<p><strong>q</strong></p>\n</blockquote>"


def test_block_quote_multi_line() -> None:
    assert r(">>> all\nof\n\nthis") == ("<blockquote>\n<p>all<br>\nof</p>\n<p>this</p>\n</blockquote>")
    assert r("intro\n>>> rest") == "<p>intro</p>\n<blockquote>\n<p>rest</p>\n</blockquote>"
    assert r(">>>") == "<p>&gt;&gt;&gt;</p>"


def test_lists() -> None:
    assert r("- a\n- b") == "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"
    assert r("* a\n* b") == "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"
    assert r("1. x\n2. y") == "<ol>\n<li>x</li>\n<li>y</li>\n</ol>"
    assert r("3. three") == '<ol start="3">\n<li>three</li>\n</ol>'
    assert r("- a\n  - nested") == "<ul>\n<li>a\n<ul>\n<li>nested</li>\n</ul>\n</li>\n</ul>"
    assert r("- **b** item") == "<ul>\n<li><strong>b</strong> item</li>\n</ul>"
    # markers Discord does not know stay literal
    assert r("+ plus") == "<p>+ plus</p>"
    assert r("1) paren") == "<p>1) paren</p>"
    assert r("-") == "<p>-</p>"


def test_code_block_python_is_highlighted() -> None:
    assert r("```py\ndef f(x):\n    return 1\n```") == (
        '<pre class="codehilite" data-lang="py"><code>'
        '<span class="k">def</span><span class="w"> </span><span class="nf">f</span>'
        '<span class="p">(</span><span class="n">x</span><span class="p">):</span>\n'
        '    <span class="k">return</span> <span class="mi">1</span>'
        "</code></pre>"
    )


def test_code_block_variants() -> None:
    plain = '<pre class="codehilite"><code>{}</code></pre>'
    assert r("```\nplain <b>text</b>\n```") == plain.format("plain &lt;b&gt;text&lt;/b&gt;")
    assert r("```one line```") == plain.format("one line")
    assert r("```\n**not bold**\n```") == plain.format("**not bold**")
    # closing fence on the last content line, with trailing text
    assert r("```\nx = 1```  then") == plain.format("x = 1") + "\n<p>then</p>"
    # unknown language: escaped, unhighlighted
    assert r("```nosuchlang\na < b\n```") == (
        '<pre class="codehilite" data-lang="nosuchlang"><code>a &lt; b</code></pre>'
    )
    # unclosed fence is literal
    assert r("```\nopen") == "<p>```<br>\nopen</p>"
    # only backticks fence
    assert r("~~~\nx\n~~~") == "<p>~~~<br>\nx<br>\n~~~</p>"


def test_code_block_inside_quote() -> None:
    assert r("> ```\n> code\n> ```") == (
        '<blockquote>\n<pre class="codehilite"><code>code</code></pre>\n</blockquote>'
    )


# --------------------------------------------------------------------------- links


def test_masked_link() -> None:
    assert r("[docs](https://example.com/a?b=1&c=2)") == (
        f'<p><a href="https://example.com/a?b=1&amp;c=2" {REL}>docs</a></p>'
    )
    assert r('[t](https://x.org "Title")') == f'<p><a href="https://x.org" title="Title" {REL}>t</a></p>'
    assert (
        r("[**bold** link](https://x.org)")
        == f'<p><a href="https://x.org" {REL}><strong>bold</strong> link</a></p>'
    )


def test_autolinks() -> None:
    assert r("see https://example.com/path") == (
        f'<p>see <a href="https://example.com/path" {REL}>https://example.com/path</a></p>'
    )
    assert r("<https://no.embed/x>") == f'<p><a href="https://no.embed/x" {REL}>https://no.embed/x</a></p>'
    assert r("(https://x.com/a).") == f'<p>(<a href="https://x.com/a" {REL}>https://x.com/a</a>).</p>'
    assert r("https://en.wikipedia.org/wiki/A_(b)") == (
        f'<p><a href="https://en.wikipedia.org/wiki/A_(b)" {REL}>https://en.wikipedia.org/wiki/A_(b)</a></p>'
    )
    assert (
        r("**https://x.com**") == f'<p><strong><a href="https://x.com" {REL}>https://x.com</a></strong></p>'
    )
    assert r("xhttps://x.com") == "<p>xhttps://x.com</p>"
    assert r("ftp://x.com") == "<p>ftp://x.com</p>"


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>"),
        ("[x](JAVASCRIPT:alert(1))", "<p>[x](JAVASCRIPT:alert(1))</p>"),
        ("[x]( javascript:alert(1))", "<p>[x]( javascript:alert(1))</p>"),
        ("[x](<javascript:alert(1)>)", "<p>[x](&lt;javascript:alert(1)&gt;)</p>"),
        ("[x](data:text/html;base64,PHNjcmlwdD4=)", "<p>[x](data:text/html;base64,PHNjcmlwdD4=)</p>"),
        ("[x](vbscript:msgbox)", "<p>[x](vbscript:msgbox)</p>"),
        ("[x](/relative)", "<p>[x](/relative)</p>"),
        ("[x]()", "<p>[x]()</p>"),
        ("<javascript:alert(1)>", "<p>&lt;javascript:alert(1)&gt;</p>"),
        ("<data:text/html,x>", "<p>&lt;data:text/html,x&gt;</p>"),
    ],
)
def test_dangerous_links_stay_literal(src: str, expected: str) -> None:
    assert r(src) == expected


def test_link_destination_is_encoded() -> None:
    assert r('[x](https://a.com/"><script>)') == (
        f'<p><a href="https://a.com/%22%3E%3Cscript%3E" {REL}>x</a></p>'
    )


# --------------------------------------------------------------------------- unsupported syntax


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("| a | b |\n|---|---|\n| 1 | 2 |", "<p>| a | b |<br>\n|---|---|<br>\n| 1 | 2 |</p>"),
        ("![alt](x.png)", "<p>![alt](x.png)</p>"),
        (
            "![alt](https://e.com/i.png)",
            f'<p>![alt](<a href="https://e.com/i.png" {REL}>https://e.com/i.png</a>)</p>',
        ),
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ("<img src=x onerror=alert(1)>", "<p>&lt;img src=x onerror=alert(1)&gt;</p>"),
        ("<b>bold?</b>", "<p>&lt;b&gt;bold?&lt;/b&gt;</p>"),
        ("<div>\nblock html\n</div>", "<p>&lt;div&gt;<br>\nblock html<br>\n&lt;/div&gt;</p>"),
        ("<!-- comment -->", "<p>&lt;!-- comment --&gt;</p>"),
        ('<a href="javascript:x">y</a>', '<p>&lt;a href="javascript:x"&gt;y&lt;/a&gt;</p>'),
        ("Title\n=====", "<p>Title<br>\n=====</p>"),
        ("Title\n-----", "<p>Title<br>\n-----</p>"),
        ("    indented code", "<p>indented code</p>"),
        (
            "[ref]: https://x.com\n[ref]",
            f'<p>[ref]: <a href="https://x.com" {REL}>https://x.com</a><br>\n[ref]</p>',
        ),
        ("[ref][x]", "<p>[ref][x]</p>"),
        ("---", "<p>---</p>"),
        ("***", "<p>***</p>"),
        ("&#60;script&#62;", "<p>&amp;#60;script&amp;#62;</p>"),
    ],
)
def test_unsupported_syntax_is_literal(src: str, expected: str) -> None:
    assert r(src) == expected


def test_raw_anchor_is_escaped_not_passed_through() -> None:
    out = r('<a href="https://evil.example">click</a>')
    assert out.startswith("<p>&lt;a href=")
    assert "&lt;/a&gt;" in out
    assert ">click</a>" not in out


# --------------------------------------------------------------------------- mentions


def test_raw_user_mentions_known() -> None:
    link = f'<a class="mention mention-user" href="/u/123" {REL}>@Alice Smith</a>'
    assert r("hi <@123>", users=USERS) == f"<p>hi {link}</p>"
    assert r("hi <@!123>", users=USERS) == f"<p>hi {link}</p>"
    # no nickname -> username
    assert r("<@456>", users=USERS) == f'<p><a class="mention mention-user" href="/u/456" {REL}>@bob</a></p>'


def test_raw_user_mention_unknown_and_without_context() -> None:
    span = '<span class="mention mention-user">@unknown-user</span>'
    assert r("<@999>", users=USERS) == f"<p>{span}</p>"
    assert r("<@123>") == f"<p>{span}</p>"


def test_users_can_be_an_iterable_and_url_customised() -> None:
    out = r("<@123>", users=list(USERS.values()), user_url=lambda i: f"/people/{i}")
    assert out == f'<p><a class="mention mention-user" href="/people/123" {REL}>@Alice Smith</a></p>'
    assert (
        r("<@123>", users=USERS, user_url=None)
        == '<p><span class="mention mention-user">@Alice Smith</span></p>'
    )


def test_resolved_user_mentions() -> None:
    link = f'<a class="mention mention-user" href="/u/123" {REL}>@Alice Smith</a>'
    assert r("thanks @Alice Smith!", users=USERS) == f"<p>thanks {link}!</p>"
    assert r("@alice ok", users=USERS) == (
        f'<p><a class="mention mention-user" href="/u/123" {REL}>@alice</a> ok</p>'
    )
    # unknown names and e-mail-like text stay literal
    assert r("@Carol hi", users=USERS) == "<p>@Carol hi</p>"
    assert r("mail bob@alice.com", users=USERS) == "<p>mail bob@alice.com</p>"
    assert r("@bobby", users=USERS) == "<p>@bobby</p>"
    assert r("@Alice Smith") == "<p>@Alice Smith</p>"


def test_everyone_here() -> None:
    assert r("@everyone look") == '<p><span class="mention mention-everyone">@everyone</span> look</p>'
    assert r("@here") == '<p><span class="mention mention-everyone">@here</span></p>'
    assert r("@hereafter") == "<p>@hereafter</p>"


def test_channel_mentions() -> None:
    url = {"channel_url": lambda i: f"/c/{i}"}
    assert r("<#77>", channels=CHANNELS, **url) == (
        f'<p><a class="mention mention-channel" href="/c/77" {REL}>#general</a></p>'
    )
    assert r("<#77>", channels=CHANNELS) == '<p><span class="mention mention-channel">#general</span></p>'
    assert (
        r("<#1>", channels=CHANNELS, **url)
        == '<p><span class="mention mention-channel">#unknown-channel</span></p>'
    )
    assert r("see #off-topic.", channels=CHANNELS, **url) == (
        f'<p>see <a class="mention mention-channel" href="/c/88" {REL}>#off-topic</a>.</p>'
    )
    assert r("C#general", channels=CHANNELS, **url) == "<p>C#general</p>"


def test_role_and_command_mentions() -> None:
    assert r("<@&5>", roles={"5": "Mods"}) == '<p><span class="mention mention-role">@Mods</span></p>'
    assert r("<@&5>") == '<p><span class="mention mention-role">@unknown-role</span></p>'
    assert r("</ask question:42>") == '<p><span class="mention mention-command">/ask question</span></p>'


def test_mention_inside_masked_link_is_not_a_nested_link() -> None:
    assert r("[<@123>](https://x.org)", users=USERS) == (
        f'<p><a href="https://x.org" {REL}><span class="mention mention-user">@Alice Smith</span></a></p>'
    )


# --------------------------------------------------------------------------- emoji, timestamps


def test_custom_emoji() -> None:
    assert r("nice <:pog:123456789012345678>") == (
        '<p>nice <img class="emoji" alt=":pog:" title=":pog:" '
        'src="https://cdn.discordapp.com/emojis/123456789012345678.png"></p>'
    )
    assert r("x <a:dance:42>") == (
        '<p>x <img class="emoji" alt=":dance:" title=":dance:" src="https://cdn.discordapp.com/emojis/42.gif"></p>'
    )


def test_custom_emoji_only_message_is_jumbo() -> None:
    assert r("<:a:1> <:b:2>") == (
        '<p><img class="emoji jumbo" alt=":a:" title=":a:" src="https://cdn.discordapp.com/emojis/1.png"> '
        '<img class="emoji jumbo" alt=":b:" title=":b:" src="https://cdn.discordapp.com/emojis/2.png"></p>'
    )


def test_custom_emoji_url_function() -> None:
    calls: list[tuple[str, bool]] = []

    def emoji_url(eid: str, animated: bool) -> str:
        calls.append((eid, animated))
        return f"/media/emoji/{eid}.{'gif' if animated else 'png'}"

    assert r("<a:dance:42>", emoji_url=emoji_url) == (
        '<p><img class="emoji jumbo" alt=":dance:" title=":dance:" src="/media/emoji/42.gif"></p>'
    )
    assert calls == [("42", True)]


def test_emoji_url_function_cannot_smuggle_scripts() -> None:
    out = r("<:x:1>", emoji_url=lambda i, a: "javascript:alert(1)")
    assert "javascript" not in out
    out = r("<:x:1>", emoji_url=lambda i, a: '"><script>alert(1)</script>')
    assert "<script" not in out


TS = 1700000000  # 2023-11-14 22:13:20 UTC, a Tuesday
TITLE = 'title="Tuesday, 14 November 2023 22:13 UTC"'


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("t", "22:13 UTC"),
        ("T", "22:13:20 UTC"),
        ("d", "2023-11-14"),
        ("D", "14 November 2023"),
        ("f", "14 November 2023 22:13 UTC"),
        ("F", "Tuesday, 14 November 2023 22:13 UTC"),
    ],
)
def test_timestamps(fmt: str, text: str) -> None:
    assert r(f"<t:{TS}:{fmt}>") == (
        f'<p><time class="timestamp" datetime="2023-11-14T22:13:20Z" {TITLE}>{text}</time></p>'
    )


def test_timestamp_default_and_relative() -> None:
    assert r(f"<t:{TS}>") == (
        '<p><time class="timestamp" datetime="2023-11-14T22:13:20Z" '
        f"{TITLE}>14 November 2023 22:13 UTC</time></p>"
    )
    assert r(f"<t:{TS}:R>") == (
        '<p><time class="timestamp timestamp-relative" datetime="2023-11-14T22:13:20Z" '
        f"{TITLE}>14 November 2023 22:13 UTC</time></p>"
    )


def test_bad_timestamps_stay_literal() -> None:
    assert r("<t:999999999999999>") == "<p>&lt;t:999999999999999&gt;</p>"
    assert r(f"<t:{TS}:x>") == f"<p>&lt;t:{TS}:x&gt;</p>"


# --------------------------------------------------------------------------- nesting, inline API, plain text


def test_nested_formatting_in_quote_and_list() -> None:
    assert r("> - **a** ||b||") == (
        '<blockquote>\n<ul>\n<li><strong>a</strong> <span class="spoiler" tabindex="0">b</span></li>\n'
        "</ul>\n</blockquote>"
    )
    assert r("- > quoted item") == "<ul>\n<li>\n<blockquote>\n<p>quoted item</p>\n</blockquote>\n</li>\n</ul>"


def test_render_inline_has_no_blocks() -> None:
    out = str(render_inline("# **Title** with `code`\n> not a quote"))
    assert out == "# <strong>Title</strong> with <code>code</code><br>\n&gt; not a quote"
    assert str(render_inline("[x](https://x.org) <:e:1>")) == (
        f'<a href="https://x.org" {REL}>x</a> <img class="emoji" alt=":e:" title=":e:" '
        'src="https://cdn.discordapp.com/emojis/1.png">'
    )
    assert render_inline("") == Markup("")
    assert render_inline(None) == Markup("")


def test_empty_content() -> None:
    assert render_content("") == Markup("")
    assert render_content(None) == Markup("")


def test_to_plain_text() -> None:
    assert to_plain_text("**Hello** <@123>, see [docs](https://x.org)!\n> quoted", users=USERS) == (
        "Hello @Alice Smith, see docs! quoted"
    )
    assert (
        to_plain_text("```py\nprint(1)\n```\n||spoiler|| <t:1700000000:d>") == "print(1) spoiler 2023-11-14"
    )
    assert to_plain_text("<script>x</script>") == "<script>x</script>"
    assert to_plain_text("") == ""


def test_pygments_css() -> None:
    dark = pygments_css("dark")
    light = pygments_css("light", '[data-theme="light"]')
    assert ".codehilite .k " in dark
    assert dark != pygments_css("light")
    assert all(line.startswith(".codehilite") for line in dark.splitlines())
    assert all(line.startswith('[data-theme="light"] .codehilite') for line in light.splitlines())
    assert "style=" not in r("```py\nx = 1\n```")


# --------------------------------------------------------------------------- properties

VOID = {"br", "img"}
JS_RE = re.compile(r"^\s*(?:javascript|vbscript|data)\s*:", re.IGNORECASE)
EXTRA_ATTRS = {"a": {"rel", "class"}, "span": {"class", "tabindex"}}


class _TreeChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"tag {tag}")
        allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | EXTRA_ATTRS.get(tag, set())
        if tag in ALLOWED_CLASSES:
            allowed = allowed | {"class"}
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.errors.append(f"event handler {name}")
            if name not in allowed:
                self.errors.append(f"attr {tag}.{name}")
            if JS_RE.match(re.sub(r"[\x00-\x20]", "", value)):
                self.errors.append(f"script url {name}={value!r}")
            if name == "class":
                extra = set(value.split()) - ALLOWED_CLASSES.get(tag, set())
                if extra:
                    self.errors.append(f"class {tag}.{extra}")
            if name == "href" and not re.match(r"(?:https?://|mailto:|/u/\d+$)", value, re.IGNORECASE):
                self.errors.append(f"href {value!r}")
            if name == "src" and not re.fullmatch(
                r"https://cdn\.discordapp\.com/emojis/\d+\.(png|gif)", value
            ):
                self.errors.append(f"src {value!r}")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.errors.append(f"self-closing {tag}")
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            self.errors.append(f"end tag for void {tag}")
        elif not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}> with stack {self.stack}")
        else:
            self.stack.pop()

    def handle_comment(self, data: str) -> None:
        self.errors.append("comment")

    def handle_decl(self, decl: str) -> None:
        self.errors.append("declaration")

    def handle_pi(self, data: str) -> None:
        self.errors.append("processing instruction")


def check_html(html: str) -> None:
    checker = _TreeChecker()
    checker.feed(html)
    checker.close()
    assert not checker.errors, (checker.errors, html)
    assert not checker.stack, (checker.stack, html)


MD_ALPHABET = "*_~|`#->[]()<>!:@&/\\ \n\t\"'=.1aZh"
FRAGMENTS = [
    "**", "*", "__", "_", "~~", "||", "`", "```", "```py\n", "```js\n", "\n", "\n\n", " ", "> ", ">>> ",
    "# ", "## ", "#### ", "-# ", "- ", "* ", "1. ", "    ", "[", "]", "(", ")", "](", "![", "<", ">",
    "https://", "http://x.y/", "javascript:", "JaVaScRiPt:", " javascript:", "data:text/html,", "vbscript:",
    "mailto:", "<script>", "</script>", "<img src=x onerror=alert(1)>", "<a href=\"javascript:alert(1)\">",
    "</a>", "<iframe>", "<style>", "<!--", "-->", "<svg onload=alert(1)>", "&lt;", "&#x3C;", "&amp;",
    "<@123>", "<@!456>", "<@999>", "<#77>", "<@&5>", "<:e:1>", "<a:g:2>", "<t:1700000000:R>",
    "<t:99999999999999>", "</c:3>", "@everyone", "@Alice Smith", "#general", "onclick=", "\"", "'",
    "style=\"x\"", "text", "word", "\u202e", "\x00", "|---|---|", "===", "---", "[x]: https://y",
    "](javascript:alert(1))", "](https://ok.example/a)", "<https://ok.example>", "<javascript:alert(1)>",
]  # fmt: skip

markdownish = st.one_of(
    st.text(alphabet=MD_ALPHABET, max_size=200),
    st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=5)), max_size=30).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(markdownish)
def test_property_render_content_is_safe_and_balanced(text: str) -> None:
    html = render_content(text, users=USERS, channels=CHANNELS)
    assert isinstance(html, Markup)
    check_html(str(html))


@settings(max_examples=300, deadline=None)
@given(markdownish)
def test_property_render_inline_is_safe_and_balanced(text: str) -> None:
    html = str(render_inline(text, users=USERS, channels=CHANNELS))
    check_html(html)
    for tag in ("<p", "<blockquote", "<ul", "<ol", "<li", "<pre", "<h3", "<h4", "<h5"):
        assert tag not in html


@settings(max_examples=300, deadline=None)
@given(markdownish)
def test_property_plain_text_never_raises(text: str) -> None:
    assert isinstance(to_plain_text(text, users=USERS), str)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("[https://archive.example/m/123](https://elsewhere.example/x)", "https://elsewhere.example/x"),
        ("[**https://archive.example/m/1**](https://elsewhere.example/)", "https://elsewhere.example/"),
        ("[see https://archive.example now](https://elsewhere.example/)", "https://elsewhere.example/"),
        ("[www.archive.example](https://elsewhere.example/)", "https://elsewhere.example/"),
        # The text names the target itself: kept as written.
        ("[https://x.org/a](https://x.org/a/)", "https://x.org/a"),
        ("[HTTPS://X.ORG](https://x.org)", "HTTPS://X.ORG"),
        ("[docs](https://elsewhere.example/)", "docs"),
    ],
)
def test_masked_link_whose_text_is_another_url_shows_the_real_target(text: str, shown: str) -> None:
    href = text[text.rindex("(") + 1 : -1]
    assert r(text) == f'<p><a href="{href}" {REL}>{shown}</a></p>'
