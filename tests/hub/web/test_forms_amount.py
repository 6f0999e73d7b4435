"""Reading action parameters: 元 typed into a form becomes fen once, bad input is refused naming the
field (in Chinese on the case page, in English for the API), and plugin text is shown by its Chinese."""

from __future__ import annotations

import pytest

from hub.money import typed_yuan_to_fen
from hub.platform import ParamSpec
from hub.store.serialize import jsonable
from hub.web.forms import coerce_params
from hub.web.middlewares import ApiError
from hub.web.present import source_terms, zh_text

AMOUNT = jsonable(ParamSpec(name="amount_fen", help="refund in fen", type="amount", label_zh="退款金额"))
ADDRESS = jsonable(ParamSpec(name="address_id", help="address id", required=True, label_zh="退货地址"))


@pytest.mark.parametrize(
    ("typed", "fen"),
    [("12", 1200), ("12.5", 1250), ("12.50", 1250), ("0.01", 1), ("¥1,299.00", 129900), (" ￥8.8 ", 880)],
)
def test_yuan_typed_into_a_form_is_fen(typed: str, fen: int) -> None:
    assert typed_yuan_to_fen(typed) == fen
    assert coerce_params([AMOUNT], {"amount_fen": typed}, yuan=True, lang="zh") == {"amount_fen": fen}


@pytest.mark.parametrize("typed", ["12.345", "-1", "1e3", "abc", "1,2", "12.", "0x10"])
def test_bad_amounts_are_refused_naming_the_field(typed: str) -> None:
    with pytest.raises(ValueError):
        typed_yuan_to_fen(typed)
    with pytest.raises(ApiError) as err:
        coerce_params([AMOUNT], {"amount_fen": typed}, yuan=True, lang="zh")
    assert err.value.status == 422 and err.value.message.startswith("“退款金额”须为金额（元）")
    with pytest.raises(ApiError) as err:
        coerce_params([AMOUNT], {"amount_fen": typed}, yuan=True)
    assert "parameter amount_fen must be an amount in yuan" in err.value.message


def test_the_api_sends_amounts_in_fen() -> None:
    """Converted once: the API's integer fen is not read as 元 (1250 stays 1250 fen)."""
    assert coerce_params([AMOUNT], {"amount_fen": 1250}) == {"amount_fen": 1250}
    assert coerce_params([AMOUNT], {"amount_fen": "1250"}) == {"amount_fen": 1250}
    with pytest.raises(ApiError, match="whole number"):
        coerce_params([AMOUNT], {"amount_fen": "12.50"})
    with pytest.raises(ApiError, match="negative"):
        coerce_params([AMOUNT], {"amount_fen": -5})


def test_a_missing_required_field_is_named_in_chinese() -> None:
    with pytest.raises(ApiError) as err:
        coerce_params([ADDRESS], {}, yuan=True, lang="zh")
    assert err.value.message == "“退货地址”必须填写"
    with pytest.raises(ApiError, match="parameter address_id is required"):
        coerce_params([ADDRESS], {})


def test_unknown_param_types_are_refused_at_declaration() -> None:
    with pytest.raises(ValueError, match="not one of"):
        ParamSpec(name="x", help="x", type="money")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "开放平台没有申诉接口：请在卖家中心发起申诉 (no appeal API in TOP)",
            "开放平台没有申诉接口：请在卖家中心发起申诉",
        ),
        (
            "仅在“待商家处理”(售后状态 2/3)时可同意退款 [PDD docs (pdd.refund.agree)]",
            "仅在“待商家处理”(售后状态 2/3)时可同意退款",
        ),
        ("漏发少件 · Missing items", "漏发少件"),
        ("买家确认收货（receive_time，签收不晚于此时）", "买家确认收货（签收不晚于此时）"),
        ("the merchant is the buyer on 17网: nothing to refuse", None),
        ("no appeal recorded for this case", None),
    ],
)
def test_plugin_text_is_shown_by_its_chinese(text: str, shown: str | None) -> None:
    assert zh_text(text) == shown


def test_an_english_citation_gives_its_chinese_names() -> None:
    assert source_terms("Taobao refund rules (退款流程): a seller who does not answer") == "退款流程"
    assert source_terms("merchant return-postage procedure: each leg's sender pays") is None
