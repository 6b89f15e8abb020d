from techmarket.web import _highlight, _key_terms


def test_highlight_escapes_text_and_marks_terms():
    out = str(_highlight("<script>x</script>轴承套圈淬火", ["轴承", "淬火"]))
    assert out == "&lt;script&gt;x&lt;/script&gt;<mark>轴承</mark>套圈<mark>淬火</mark>"


def test_highlight_prefers_longer_terms_and_ignores_single_characters():
    assert str(_highlight("轴承套圈磨削", ["轴承", "轴承套圈", "磨"])) == "<mark>轴承套圈</mark>磨削"
    assert _key_terms(["磨", "", "套圈"]) == ["套圈"]


def test_terms_are_not_regex():
    assert str(_highlight("a.b axb", [".b"])) == "a<mark>.b</mark> axb"
