"""The glossary (issue 24 §1): it parses, and every Japanese text uses its terms."""

from __future__ import annotations

from pathlib import Path

import pytest

from freqbayes import glossary, i18n

#: Terms issue 24 §1 names; the glossary must have each (as ja or a ja alias).
REQUIRED = (
    "最尤推定 MAP推定 事前分布 事後分布 尤度 不偏推定量 信頼区間 信用区間 "
    "確信区間 被覆確率 重み減衰 完全分離 分類超平面 支持超平面 サポートベクトル "
    "マージン カーネルトリック 特徴空間 k平均法 クラスタ内平方和 確率的勾配降下法 "
    "ミニバッチ 次元の呪い k近傍法 混合ガウス分布 ガウス過程 馬蹄事前分布 "
    "ラプラス近似 変分推論 マルコフ連鎖モンテカルロ法 事後予測分布 標準誤差 "
    "ブートストラップ プロファイル尤度 交差エントロピー KLダイバージェンス "
    "最小二乗法 リッジ回帰 ロジスティック回帰 シグモイド関数 ヒンジ損失 学習率 汎化 "
    "過学習 "
).split()


def catalogue_problems(
    catalogue: dict[str, str], terms: list[glossary.Term] | None = None
) -> dict[str, list[str]]:
    """msgid → the English terms whose Japanese its msgstr lacks (entries with none left out)."""
    problems = {}
    for msgid, msgstr in catalogue.items():
        missing = glossary.missing_japanese(msgid, msgstr, terms)
        if missing:
            problems[msgid] = [f"{t.en} → {t.ja}" for t in missing]
    return problems


def read_catalogue(path: Path) -> dict[str, str]:
    """msgid → msgstr of the translated, non-fuzzy entries of a .po file."""
    from babel.messages.pofile import read_po

    with path.open("rb") as file:
        return {
            str(m.id): str(m.string)
            for m in read_po(file, locale="ja")
            if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
        }


def test_the_glossary_parses_and_is_complete():
    terms = glossary.load()
    assert len({t.ja for t in terms}) == len(terms) >= 40
    assert len({t.en.lower() for t in terms}) == len(terms)
    ja = {form for t in terms for form in t.ja_forms}
    assert not [r for r in REQUIRED if r not in ja]
    for t in terms:
        assert not t.section or glossary.SECTION.fullmatch(t.section), t
    # a form names one term only: no alias of one term is another term's form
    for forms in ("ja_forms", "en_forms"):
        seen: dict[str, str] = {}
        for t in terms:
            for form in getattr(t, forms):
                assert seen.setdefault(form.lower(), t.ja) == t.ja, (form, t.ja, seen[form.lower()])


def test_a_bad_glossary_row_is_named(tmp_path):
    header = "\t".join(glossary.COLUMNS) + "\n"
    bad = tmp_path / "g.tsv"
    bad.write_text(header + "偏り\tbias\t\t§5.4\t\t\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 2: section '§5\.4' is not in §5\.5–§5\.11"):
        glossary.load(bad)
    bad.write_text(header + "尤度\tlikelihood\t\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2: 3 cells"):
        glossary.load(bad)


def test_longer_terms_win():
    found = [t.ja for t in glossary.english_terms("The maximum likelihood estimate's likelihood")]
    assert found == ["最尤推定", "尤度"]
    assert [t.ja for t in glossary.english_terms("Support vectors of an SVM")] == [
        "サポートベクトル",
        "サポートベクトルマシン",
    ]
    assert [t.ja for t in glossary.english_terms("k-means++ seeds k-means")] == [
        "k-means++",
        "k平均法",
    ]
    # an acronym keeps its case: a map is not a MAP estimate
    assert glossary.english_terms("a heat map") == []


def test_the_catalogue_uses_the_glossary():
    problems = catalogue_problems(i18n.messages("ja"))
    assert not problems, f"{len(problems)} translations do not use the glossary: {problems}"


def test_a_translation_off_the_glossary_is_reported(tmp_path):
    po = tmp_path / "fixture.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "The MAP estimate under a Gaussian prior is weight decay"\n'
        'msgstr "ガウス事前分布の下でのMAP推定値は重み減衰である"\n\n'
        'msgid "Coverage of the {level:.0%} credible interval"\n'
        'msgstr "{level:.0%} 確信区間の被覆確率"\n\n'
        'msgid "Support vectors lie on the supporting hyperplanes"\n'
        'msgstr "サポートベクトルは支える超平面の上にある"\n\n'
        # a placeholder's name is not prose; spaces do not count; code is kept as it is
        'msgid "{estimator} of the RBF-kernel SVM"\n'
        'msgstr "RBF カーネル SVM の{estimator}"\n\n'
        'msgid "em_step must return (weights, means, variances)"\n'
        'msgstr "em_step は (weights, means, variances) を返さなければならない"\n',
        encoding="utf-8",
    )
    problems = catalogue_problems(read_catalogue(po))
    assert problems == {
        "Support vectors lie on the supporting hyperplanes": ["supporting hyperplane → 支持超平面"]
    }
