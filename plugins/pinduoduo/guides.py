"""Merchants' handling guides for Pinduoduo after-sales, as data.

Source: published merchant guides for Pinduoduo customer service ("拼多多客服处理售后问题的技巧" and
"拼多多客服常见的物流问题及处理技巧"), paraphrased; docs/rules/pinduoduo.md lists them. Each
guide lists its steps, the evidence to gather for a dispute or an appeal, and the words in a
case's reason that select it. :mod:`.insights` picks the guides for a case; nothing here does IO.
"""

from __future__ import annotations

from dataclasses import dataclass

GUIDE_SOURCE = "merchant guide for Pinduoduo customer service"
SRC_AFTER_SALES = f"{GUIDE_SOURCE}: 拼多多客服处理售后问题的技巧 (docs/rules/pinduoduo.md#guides)"
SRC_LOGISTICS = f"{GUIDE_SOURCE}: 拼多多客服常见的物流问题及处理技巧 (docs/rules/pinduoduo.md#guides)"


@dataclass(frozen=True, kw_only=True)
class Guide:
    id: str
    title: str  #: Chinese, as agents read it
    title_en: str
    steps: tuple[str, ...]
    evidence: tuple[str, ...]  #: what to gather for the dispute / the appeal
    keywords: tuple[str, ...] = ()  #: words in the reason or description that select the guide
    source: str = SRC_AFTER_SALES
    level: str = "info"


MISSING_ITEMS = Guide(
    id="missing_items",
    title="漏发少件",
    title_en="Missing items",
    keywords=("少件", "漏发", "少发", "缺件", "少了", "数量不符", "件数不对"),
    steps=(
        "让买家拍照，确定漏发的是哪件商品；询问签收时包裹是否破损、是否本人签收。",
        "包裹破损导致少件：快递方责任。联系快递索赔，同时安抚买家并补发，告知买家发货时间。",
        "包裹完好：重新打包一份称重，与仓库称重图、快递内网重量图对比，确认是否少件。",
        "核实少件：安抚买家并安排补发，补发后告知买家补寄单号。",
        "重量相符而买家坚持漏发：先友好协商（视情况补发）；协商无果进入售后，提供发货称重图、快递内网称重图证明未漏发。",
    ),
    evidence=(
        "买家拍的商品照片",
        "仓库发货称重图",
        "快递内网称重图",
        "物流方开具的发货无误凭证",
        "外包装照片（是否破损）",
    ),
)

WRONG_ITEM = Guide(
    id="wrong_item",
    title="发错商品",
    title_en="Wrong item",
    keywords=(
        "发错",
        "错发",
        "货不对",
        "不是我买的",
        "与订单不符",
        "款式不符",
        "颜色不符",
        "型号不符",
        "商品不符",
    ),
    steps=(
        "先让买家拍下收到的商品，确认是否发错。",
        "确实发错：① 补差价——协商买家接受收到的商品，在可接受范围内补差价。",
        "② 换货——买家寄回，运费由商家承担；收到退货（快递单号）后重新发货。",
        "③ 补发——商品价格低、退货运费高过商品价时，直接补发正确商品更省。",
        "④ 退货退款——买家不接受以上方案时，致歉并及时退货退款，主动说明运费由谁承担。",
        "若买家图片不是本店商品，见“非本店商品”指引。",
    ),
    evidence=("买家拍的收货照片", "发货商品与面单合照", "订单商品规格截图"),
)

NOT_OUR_GOODS = Guide(
    id="not_our_goods",
    title="买家图片非本店商品",
    title_en="Photos of goods the shop does not sell",
    keywords=("非本店", "不是本店", "别家", "其他店"),
    steps=(
        "买家可能同时买了几家的商品而弄错：耐心说明本店没有这款商品。",
        "买家故意发起申请：可以驳回售后申请（开放平台无驳回接口，请在商家后台操作）。",
        "若平台仍判买家售后通过：商家后台【订单售后详情页】—【售后状态】—【维权申诉】发起维权申诉，"
        "在问题描述里说明情况，附上凭证，耐心等待审核。",
    ),
    evidence=(
        "店铺没有该商品的凭证（店铺商品列表截图）",
        "发货无误凭证：发货商品与面单的合照",
        "与买家的聊天记录",
    ),
    level="warning",
)

INTERVENTION = Guide(
    id="intervention",
    title="平台介入",
    title_en="The platform is intervening",
    steps=(
        "买家申请平台介入：准备好相应凭证。",
        "简单明了地指出不能退款的原因，分点列出。",
        "保留与买家沟通的聊天记录；驳回时注明“商家愿意主动联系客户”。",
    ),
    evidence=("与买家的聊天记录", "发货凭证（面单、称重图）", "商品照片", "不能退款的理由（分点）"),
    source=(
        f"{SRC_AFTER_SALES}: 售后解决不了怎么办 (三、平台介入时，相应的凭证要准备好); "
        "商家拒绝后买家可申请平台介入"
    ),
    level="warning",
)

LOGISTICS_NO_UPDATE = Guide(
    id="logistics_no_update",
    title="物流信息不更新",
    title_en="No tracking updates",
    keywords=("物流不更新", "物流没更新", "没有物流", "物流信息", "物流停", "一直不动", "未更新"),
    steps=(
        "到后台及快递官网查询物流信息，看是否只是后台延迟更新。",
        "确实没有物流信息：联系快递公司要解决方案，同时安抚买家并约定处理时间。",
        "给订单做好备注，跟进到底，避免遗漏。",
    ),
    evidence=("快递官网物流截图", "快递公司的书面答复", "发货面单"),
    source=SRC_LOGISTICS,
)

OUT_OF_AREA = Guide(
    id="out_of_area",
    title="物流超区",
    title_en="Courier does not deliver there (超区)",
    keywords=("超区", "不派送", "不给送", "不送货", "自提", "网点自取", "无法派送"),
    steps=(
        "与快递沟通，转发可到达的快递；或请买家更换可到达的收货地址。",
        "包裹退回后，重新发可到达的快递。",
        "记录超区地址，以后针对这些地方发可到达的快递，多合作几家快递互补盲区。",
    ),
    evidence=("快递的超区/无法派送说明", "物流轨迹截图"),
    source=SRC_LOGISTICS,
)

SIGNED_NOT_RECEIVED = Guide(
    id="signed_not_received",
    title="显示签收但买家未收到",
    title_en="Signed for, but the buyer has nothing",
    keywords=("签收", "未收到", "没收到", "没有收到", "未收货", "丢件", "丢失"),
    steps=(
        "引导买家确认是否家人、同事、驿站等代签。",
        "联系派件员核实签收情况（签收人、签收地点）。",
        "把结果反馈买家，做好退款或补发的准备；快递责任时要求快递赔偿或追回包裹。",
    ),
    evidence=("签收记录/签收底单", "派件员的说明", "物流轨迹截图"),
    source=SRC_LOGISTICS,
)

DAMAGED_PARCEL = Guide(
    id="damaged_parcel",
    title="包裹破损",
    title_en="Damaged parcel",
    keywords=("破损", "压坏", "损坏", "摔坏", "碎了", "漏液", "变形"),
    steps=(
        "请买家提供带收件人信息的完整外包装照片、清晰的破损处照片、外包装导致内物破损的照片。",
        "及时联系快递要求赔偿。",
        "安抚买家，协商退款或补发。",
    ),
    evidence=("带收件人信息的完整外包装照片", "破损处照片", "内物破损照片", "快递理赔记录"),
    source=SRC_LOGISTICS,
)

ADDRESS_CHANGE = Guide(
    id="address_change",
    title="发货后要求改地址",
    title_en="Address change after shipment",
    keywords=("改地址", "修改地址", "地址错", "换地址", "地址写错", "更改地址"),
    steps=(
        "包裹已签收：向买家说明无法修改。",
        "未签收：联系快递修改收件信息，核实是否产生邮费并与买家说明。",
        "买家申请退款的，可使用拼多多的快递拦截功能。",
    ),
    evidence=("买家改地址的聊天记录", "快递改址/拦截记录"),
    source=SRC_LOGISTICS,
)

INTERCEPTION = Guide(
    id="interception",
    title="已发货未签收的退款：快递拦截",
    title_en="Refund on a shipped parcel: courier interception",
    steps=(
        "包裹已发出、尚未签收而买家申请退款：使用拼多多的快递拦截功能拦回包裹。",
        "拦截成功、包裹退回后再同意退款，避免货款两失。",
    ),
    evidence=("拦截记录", "物流轨迹截图"),
    source=f"{SRC_LOGISTICS} (五、发货后要求改地址: 快递拦截)",
)

GUIDES: tuple[Guide, ...] = (
    MISSING_ITEMS,
    WRONG_ITEM,
    NOT_OUR_GOODS,
    INTERVENTION,
    LOGISTICS_NO_UPDATE,
    OUT_OF_AREA,
    SIGNED_NOT_RECEIVED,
    DAMAGED_PARCEL,
    ADDRESS_CHANGE,
    INTERCEPTION,
)
BY_ID = {g.id: g for g in GUIDES}

#: Evidence for a 维权申诉 against a ruling (the merchant guide: the shop has no such product;
#: the goods photographed with the waybill).
APPEAL_EVIDENCE: tuple[str, ...] = (
    "店铺没有该商品的凭证",
    "发货无误凭证（发货商品与面单合照）",
    "仓库称重图与快递内网称重图",
    "与买家的聊天记录",
)
