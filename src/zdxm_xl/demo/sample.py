"""The embedded sample: Liuzhou's 2022 plan (the seed document) as a whole master.

``build_sample`` makes 668 实施 and 287 预备 projects, about 60 责任单位 and their contacts.
Names, companies and people are fictional; the counts and amounts reproduce every figure of
the seed's 工作任务 section exactly (``SEED_FIGURES``), so the summary, the demo and the tests
can be compared with the office's own plan.

The data is made by code from a fixed seed: only ``random.Random(SAMPLE_SEED)`` is used, no
set is iterated and no float takes part in money (amounts are whole 万元, computed in
integers and stored as ``Decimal``), so every call gives the same data on every machine.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar, cast

from ..core.master import Master, new_master
from ..core.models import Project, Sector, Stage, Unit, UnitCategory
from ..core.money import WAN_PER_YI, to_yi
from ..core.registry import IMPLEMENTATION_STAGES, SECTORS

__all__ = ["SAMPLE_SEED", "SAMPLE_YEAR", "SEED_FIGURES", "PROJECT_KINDS", "build_sample",
           "solve_sums", "allocate"]

T = TypeVar("T")
SAMPLE_SEED = 20220117  # the date the plan was issued (柳政办〔2022〕5号)
SAMPLE_YEAR = 2022
CITY = "柳州市"
PUBLISHER = "柳州市重大项目建设推进办公室"

# The figures printed in the seed's 工作任务 section: (阶段, 行业分类, 项目数, 总投资 亿元,
# 年度计划投资 亿元). 阶段 None is the 实施项目 total; 行业分类 None is a stage's total.
SEED_FIGURES: tuple[tuple[str | None, str | None, int, str, str | None], ...] = (
    (None, None, 668, "5228.27", "776.92"),
    ("新开工", None, 183, "1407.74", "248.82"),
    ("新开工", "基础设施", 40, "707.89", "87.03"),
    ("新开工", "产业发展", 112, "634.22", "145.10"),
    ("新开工", "民生保障", 24, "48.47", "11.19"),
    ("新开工", "生态环保", 7, "17.16", "5.5"),
    ("续建", None, 345, "3182.43", "413.56"),
    ("续建", "基础设施", 128, "1382.35", "152.63"),
    ("续建", "产业发展", 134, "923.86", "139.28"),
    ("续建", "民生保障", 64, "771.70", "111.11"),
    ("续建", "生态环保", 19, "104.53", "10.54"),
    ("竣工", None, 140, "638.10", "114.54"),
    ("竣工", "基础设施", 49, "212.96", "41.89"),
    ("竣工", "产业发展", 48, "198.85", "39.17"),
    ("竣工", "民生保障", 37, "205.76", "30.42"),
    ("竣工", "生态环保", 6, "20.54", "3.07"),
    ("预备", None, 287, "4810.78", None),
    ("预备", "基础设施", 121, "3900.94", None),
    ("预备", "产业发展", 125, "736.79", None),
    ("预备", "民生保障", 36, "164.66", None),
    ("预备", "生态环保", 5, "8.4", None),
)

_PHASE_SUFFIX = re.compile(r"（[一二三四五六七八九十]+期）$")
Key = tuple[str | None, str | None]  # (阶段, 行业分类) as in SEED_FIGURES
_HALF_CENT_WAN = 50  # 0.005 亿元 in 万元: how far an exact sum may lie from its printed figure


# ---- word lists ---------------------------------------------------------------------------

SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡"
                 "蒋余杜叶程苏魏吕丁任沈姚卢姜钟谭陆汪范石廖韦覃蓝莫梁龙欧蒙")
GIVEN_CHARS = tuple("伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华建国志红文斌宇浩凯健俊帆鹏"
                    "辉玲婷雪琳晨阳波宁海峰琴丹萍琦燕东翔林坤")
# 项目代码 area codes (行政区划代码); a new district reports under the city's 450200.
AREA_CODES = {
    "城中区": "450202", "鱼峰区": "450203", "柳南区": "450204", "柳北区": "450205",
    "柳江区": "450206", "柳城县": "450222", "鹿寨县": "450223", "融安县": "450224",
    "融水苗族自治县": "450225", "三江侗族自治县": "450226",
}
CITY_AREA_CODE = "450200"
# How often a county gets a project: the urban districts and the two new districts lead.
COUNTY_WEIGHTS = {
    "城中区": 4, "鱼峰区": 6, "柳南区": 6, "柳北区": 6, "柳江区": 5, "柳城县": 3, "鹿寨县": 3,
    "融安县": 2, "融水苗族自治县": 2, "三江侗族自治县": 2, "柳东新区": 7,
    "阳和工业新区（北部生态新区）": 5,
}
COUNTY_CODES = {
    "城中区": "CZQ", "鱼峰区": "YFQ", "柳南区": "LNQ", "柳北区": "LBQ", "柳江区": "LJQ",
    "柳城县": "LCX", "鹿寨县": "LZX", "融安县": "RAX", "融水苗族自治县": "RSX",
    "三江侗族自治县": "SJX", "柳东新区": "LDXQ", "阳和工业新区（北部生态新区）": "YHXQ",
}
PLACES = {
    "城中区": "潭中 静兰 河东 水南 环江 城站".split(),
    "鱼峰区": "白沙 荣军 天马 里雍 洛维 麒麟 箭盘".split(),
    "柳南区": "河西 太阳村 洛满 流山 西鹅 潭西 鹅山".split(),
    "柳北区": "雀儿山 胜利 沙塘 长塘 石碑坪 白露 钢城".split(),
    "柳江区": "拉堡 进德 穿山 百朋 成团 三都 里高".split(),
    "柳城县": "大埔 沙埔 东泉 凤山 龙头 太平".split(),
    "鹿寨县": "鹿寨 中渡 黄冕 寨沙 四排 平山".split(),
    "融安县": "长安 浮石 大将 泗顶 板榄".split(),
    "融水苗族自治县": "融水 和睦 三防 怀宝 汪洞 香粉".split(),
    "三江侗族自治县": "古宜 丹洲 程阳 独峒 八江 林溪".split(),
    "柳东新区": "官塘 雒容 洛埠 新柳 双冲 花岭".split(),
    "阳和工业新区（北部生态新区）": "阳和 新圩 马鞍 莲花 和平 龙泉".split(),
}
ROADS = tuple(("文昌 东环 滨江 龙潭 鹿山 紫荆 桂柳 雒维 新柳 官塘 柳石 北雀 航鹰 屏山 壶东 鸡喇 跃进 "
         "香兰 驾鹤 峨山 东堤 西江 凤凰 双仁 红光 福馨 燎原 长风 翠竹 银桐 金鱼 朝阳 立新 "
         "晨光 广雅 古亭 鹧鸪 白莲 荔枝 春晓").split())
ROAD_SUFFIXES = ("路", "大道", "路", "街")
RIVERS = tuple("柳江 洛清江 龙江 融江 寻江 贝江 竹鹅溪 香兰河 鸡喇河 磨滩河 都乐河 沙埔河 石门河".split())
DESTINATIONS = tuple("河池 来宾 贺州 桂林 荔浦 环江 从江 武宣 象州 宜州 金秀 罗城".split())
BRAND_HEADS = tuple("华宏晟瑞恒精联鑫嘉远博凯泰正龙德银鹏中信天骏宁振")
BRAND_TAILS = tuple("驰昌达丰通工创源盛航科润腾发拓锐邦诚越星安力和")
ORDINALS = tuple(("三 五 八 十一 十三 十五 十八 二十一 二十四 二十七 三十 三十二 三十五 三十八 四十 四十二 "
            "四十五 四十八 五十 五十二 五十五").split())
HOSPITAL_ORDINALS = ("二", "三", "四", "五", "六", "七", "八", "九", "十")
PHASES = ("一期", "二期", "三期")
BUILDINGS = ("住院楼", "门急诊综合楼", "医技综合楼", "传染病区")
PARTS = tuple("车身 底盘 座椅 动力电池 电驱系统 线束 车灯 热管理系统 传动轴 制动系统 轮毂 转向系统".split())
CROPS = tuple("竹笋 豆角 木耳 米粉 螺蛳".split())
PIPES = ("供水", "燃气", "雨污分流", "再生水")
LOGISTICS = ("冷链", "公铁联运", "电商", "汽车零部件", "钢材", "农产品")


# ---- kinds of projects --------------------------------------------------------------------

@dataclass(frozen=True)
class ProjectKind:
    """A kind of project: how its name and content read, what it costs, who is in charge.

    Templates are ``str.format`` texts; their fields are filled by ``_Fields`` (places,
    companies, and sizes worked out from the project's amount). Unit tokens: ``county`` is
    the 县区 government, ``soe:…`` a state-owned company of that line, anything else a unit
    named so. ``cost`` is the usual size in 万元; the amount itself is solved from the seed.
    """

    sector: str
    names: tuple[str, ...]  # 项目名称 templates
    content: str  # 建设内容及规模 template
    works: str  # the works a year's plan speaks of (年度建设内容)
    cost: tuple[int, int]  # usual 总投资, 万元
    leads: tuple[str, ...]  # candidate 牵头单位
    partners: tuple[str, ...]  # candidate other 责任单位
    owners: tuple[str, ...]  # 项目业主 templates, or soe:…
    industry: str  # the 行业 part (BB) of the 项目代码
    approval: str = "01"  # the CC part: 01 审批, 02 核准, 03 备案
    counties: tuple[str, ...] = ()  # where such projects are; empty: anywhere
    weight: int = 2  # how often the kind is chosen within its sector
    finish: str = "投入使用"  # what a finished project does (竣工 annual content)


def _kind(sector: str, names: str, content: str, works: str, cost: tuple[int, int], leads: str,
          partners: str, owners: str, industry: str, **extra: Any) -> ProjectKind:
    # Lists are written as "|"-separated text to keep the catalogue compact.
    split = tuple[str, ...]
    return ProjectKind(sector, split(names.split("|")), content, works, cost,
                       split(leads.split("|")), split(partners.split("|")),
                       split(owners.split("|")), industry, **extra)


_GOV_OWNERS = "{county}城乡建设投资有限公司|soe:city"
_AUTO_COUNTIES = ("柳东新区", "阳和工业新区（北部生态新区）", "柳江区", "柳南区", "鱼峰区", "鹿寨县")
_RURAL = ("柳江区", "柳城县", "鹿寨县", "融安县", "融水苗族自治县", "三江侗族自治县")

PROJECT_KINDS: tuple[ProjectKind, ...] = (
    # 基础设施
    _kind("基础设施", "{place}{road}道路工程|{road}（{place}段）改扩建工程",
          "建设道路全长{km}公里，红线宽度{road_width}，同步建设给排水、照明、"
          "交通、绿化等附属设施", "路基、路面及排水工程", (8_000, 60_000),
          "county|市住房城乡建设局|soe:city", "市自然资源和规划局|市住房城乡建设局|county",
          _GOV_OWNERS, "48", weight=6, finish="建成通车"),
    _kind("基础设施", "{place}跨江大桥工程|{road}跨{river}大桥工程",
          "新建桥梁全长{bridge_m}米，主跨{span}米，桥面宽{deck}，"
          "同步建设两岸接线道路", "下部结构及主桥上部结构", (50_000, 200_000),
          "市住房城乡建设局|soe:traffic|市交通运输局", "county|市自然资源和规划局",
          "soe:traffic|soe:city", "48", finish="建成通车"),
    _kind("基础设施", "柳州市{road}快速路工程|{place}互通立交及快速通道工程",
          "建设城市快速路全长{km}公里，主线双向{lanes}车道，设互通立交{few}座",
          "主线高架及互通立交", (100_000, 600_000), "市住房城乡建设局|soe:city",
          "county|市自然资源和规划局|市发展改革委", "soe:city", "48", finish="建成通车"),
    _kind("基础设施", "柳州至{destination}高速公路（{county}段）|{place}至{destination}公路改扩建工程",
          "建设公路全长{highway_km}公里，双向四车道，设计速度100公里/小时，设互通立交{few}处",
          "路基、桥隧及路面工程", (200_000, 1_500_000), "市交通运输局|soe:traffic",
          "county|市自然资源和规划局|市发展改革委", "soe:traffic", "48", approval="02",
          weight=3, finish="建成通车"),
    _kind("基础设施", "柳州{place}铁路专用线工程|柳州{place}公铁联运枢纽工程",
          "新建铁路专用线{rail_km}公里及装卸作业区、堆场，配套建设站场设施", "线路及站场工程",
          (50_000, 400_000), "市发展改革委|soe:logistics", "市交通运输局|county",
          "soe:logistics", "53", approval="02", counties=_AUTO_COUNTIES, weight=1),
    _kind("基础设施", "{county}{river}防洪堤工程|{river}{place}段防洪治理工程",
          "新建加固堤防{river_km}公里，配套建设排涝泵站{few}座及穿堤建筑物", "堤防及泵站工程",
          (8_000, 80_000), "市水利局|county", "county|市自然资源和规划局", "soe:water|{county}水利局",
          "76"),
    _kind("基础设施", "{county}{place}水库工程|{county}{place}水库扩建工程",
          "建设中型水库一座，总库容{storage}万立方米，配套建设输水管线及坝区道路",
          "大坝、溢洪道及输水工程", (50_000, 300_000), "市水利局|county", "county|市自然资源和规划局",
          "soe:water", "76", counties=_RURAL, weight=1),
    _kind("基础设施", "{county}{place}灌区续建配套与节水改造工程",
          "改造渠道{river_km}公里，配套建设渠系建筑物{many}座，改善灌溉面积{wan_mu}万亩",
          "渠道衬砌及渠系建筑物", (5_000, 40_000), "市水利局|county", "county|市农业农村局",
          "{county}水利局", "76", counties=_RURAL, weight=1),
    _kind("基础设施", "{place}片区{pipe}管网改造工程|城区{pipe}管网（{place}片区）建设工程",
          "新建改造{pipe}管网{pipe_km}公里，配套建设加压泵站{few}座", "管网敷设及泵站",
          (3_000, 30_000), "市住房城乡建设局|soe:water|county", "county|市城市管理行政执法局",
          "soe:water|{county}城乡建设投资有限公司", "78", weight=3),
    _kind("基础设施", "{place}片区综合开发项目|{place}新城基础设施建设项目（{phase}）",
          "片区规划面积{mu}亩，建设道路、管网、安置房及公共服务配套设施", "片区道路管网及安置房",
          (100_000, 800_000), "county|soe:city|市发展改革委", "市自然资源和规划局|市住房城乡建设局",
          _GOV_OWNERS, "70", weight=3),
    _kind("基础设施", "柳州{place}220千伏输变电工程|{place}110千伏输变电工程",
          "新建主变{few}台，新建输电线路{pipe_km}公里及配套间隔", "变电站土建及线路架设",
          (5_000, 40_000), "市发展改革委|soe:energy", "county|市工业和信息化局", "soe:energy",
          "44", approval="02"),
    _kind("基础设施", "{place}综合客运枢纽工程|{place}公共停车场及充电设施建设项目",
          "建设站房及停车楼总建筑面积{sqm}平方米，设停车泊位{many}个，配套充电桩",
          "站房及停车楼主体", (5_000, 50_000), "市交通运输局|市城市管理行政执法局|soe:traffic",
          "county|市住房城乡建设局", "soe:traffic|soe:city", "54"),
    _kind("基础设施", "柳州市{place}新型智慧城市建设项目|柳州市{place}数据中心建设项目",
          "建设机房及配套用房{sqm}平方米，部署服务器机柜{racks}个及城市运行管理平台",
          "机房土建及平台部署", (5_000, 60_000), "市大数据发展局|市工业和信息化局|soe:digital",
          "市发展改革委|county", "soe:digital|柳州市{brand}信息科技有限公司", "65", weight=1),
    # 产业发展
    _kind("产业发展", "柳州{brand}新能源汽车零部件生产基地项目|{brand}新能源汽车{part}生产项目",
          "建设生产厂房及配套设施{plant_sqm}平方米，购置冲压、焊接、涂装等生产线{few}条，"
          "建成后年产新能源汽车零部件{sets}万套", "厂房建设及设备安装", (20_000, 300_000),
          "county|市工业和信息化局", "市投资促进局|市工业和信息化局|市发展改革委",
          "柳州{brand}汽车零部件有限公司|柳州{brand}新能源科技有限公司", "36", approval="03",
          counties=_AUTO_COUNTIES, weight=6, finish="建成投产"),
    _kind("产业发展", "{brand}年产{steel}万吨精品钢材深加工项目|柳州{brand}钢铁深加工项目",
          "建设冷轧、镀锌及剪切配送生产线，形成年产{steel}万吨精品钢材深加工能力",
          "生产线土建及设备安装", (30_000, 300_000), "county|市工业和信息化局|soe:industry",
          "市投资促进局|市生态环境局|市国资委", "柳州{brand}钢材加工有限公司|soe:industry", "31",
          approval="03", counties=("柳北区", "柳江区", "鹿寨县", "阳和工业新区（北部生态新区）"),
          weight=3, finish="建成投产"),
    _kind("产业发展", "{county}螺蛳粉产业园（{phase}）|柳州{brand}螺蛳粉生产基地项目",
          "建设预包装螺蛳粉生产车间、原料仓库及冷链配送中心{plant_sqm}平方米，"
          "年产预包装螺蛳粉{bags}万袋", "生产车间及冷链中心", (5_000, 60_000),
          "county|市工业和信息化局", "市商务局|市市场监督管理局|市农业农村局",
          "柳州{brand}食品有限公司|{county}城乡建设投资有限公司", "14", approval="03",
          counties=("柳南区", "鱼峰区", "柳江区", "柳城县", "鹿寨县"), weight=4,
          finish="建成投产"),
    _kind("产业发展", "{county}螺蛳粉原材料（{crop}）基地建设项目",
          "建设{crop}标准化种植（养殖）基地{mu}亩及初加工车间、冷库", "基地及初加工车间",
          (3_000, 20_000), "county|市农业农村局|soe:agri", "市工业和信息化局|市乡村振兴局",
          "柳州{brand}农业发展有限公司|soe:agri", "01", approval="03", counties=_RURAL,
          finish="建成投产"),
    _kind("产业发展", "柳州{brand}智能制造产业园项目|{brand}高端装备智能制造项目",
          "建设智能化生产车间、研发中心等{plant_sqm}平方米，引进工业机器人{robots}台（套）",
          "厂房主体及智能产线", (10_000, 200_000), "county|市工业和信息化局",
          "市科技局|市投资促进局", "柳州{brand}智能装备有限公司|柳州{brand}机械制造有限公司", "34",
          approval="03", weight=5, finish="建成投产"),
    _kind("产业发展", "柳州{place}{logistics}物流园项目|{brand}{logistics}物流中心项目",
          "建设仓储用房{plant_sqm}平方米及分拣中心、停车场，年吞吐货物{freight}万吨",
          "仓储用房及分拣中心", (10_000, 150_000), "county|市商务局|市发展改革委",
          "市交通运输局|市商务局|市邮政管理局", "柳州{brand}物流有限公司|soe:logistics", "59", approval="03",
          weight=3, finish="建成运营"),
    _kind("产业发展", "{brand}汽车{part}扩能技改项目|{brand}{part}生产线智能化改造项目",
          "改造生产线{few}条，新增设备{many}台（套），新增年产能{sets}万件",
          "生产线改造及设备安装", (3_000, 50_000), "市工业和信息化局|county",
          "市投资促进局|市科技局", "柳州{brand}汽车零部件有限公司|柳州{brand}精密制造有限公司", "36",
          approval="03", counties=_AUTO_COUNTIES, weight=4, finish="建成投产"),
    _kind("产业发展", "柳州{brand}动力电池及储能系统项目|{brand}新能源材料产业化项目",
          "建设电芯、模组及系统生产车间{plant_sqm}平方米，形成年产{gwh}吉瓦时生产能力",
          "主厂房及生产线", (50_000, 500_000), "county|市工业和信息化局",
          "市投资促进局|市发展改革委|市生态环境局", "柳州{brand}新能源科技有限公司", "38",
          approval="03", counties=_AUTO_COUNTIES, weight=2, finish="建成投产"),
    _kind("产业发展", "{county}{place}工业园区标准厂房建设项目（{phase}）",
          "建设标准厂房{plant_sqm}平方米及配套道路、管网、综合服务楼", "标准厂房主体",
          (5_000, 60_000), "county|市工业和信息化局|soe:industry", "市投资促进局|市自然资源和规划局",
          "{county}城乡建设投资有限公司|soe:industry", "47", weight=3),
    _kind("产业发展", "{brand}生物医药产业化项目|柳州{brand}医疗器械生产项目",
          "建设GMP生产车间、质检及研发中心{plant_sqm}平方米", "GMP车间及研发中心",
          (10_000, 100_000), "county|市工业和信息化局|市科技局", "市市场监督管理局|市投资促进局",
          "柳州{brand}生物科技有限公司", "27", approval="03", weight=1, finish="建成投产"),
    _kind("产业发展", "{county}{place}文化旅游综合开发项目|{place}民族文化旅游景区提升项目",
          "建设游客服务中心、民宿集群、旅游步道{river_km}公里及停车场等配套设施",
          "游客中心及景区配套", (5_000, 80_000), "county|市文化广电和旅游局|soe:tourism",
          "市文化广电和旅游局|市乡村振兴局", "soe:tourism|{county}文化旅游投资有限公司", "90",
          counties=("三江侗族自治县", "融水苗族自治县", "融安县", "鹿寨县", "柳城县"), weight=2,
          finish="建成运营"),
    _kind("产业发展", "{place}商业综合体项目|柳州{brand}{place}商贸城项目",
          "建设商业综合体总建筑面积{sqm}平方米，含购物中心、写字楼及地下停车场",
          "主体结构及幕墙", (20_000, 200_000), "county|市商务局", "市商务局|市住房城乡建设局",
          "柳州{brand}置业有限公司", "70", approval="03", weight=2, finish="开业运营"),
    _kind("产业发展", "{county}{crop}精深加工项目|{county}{place}现代农业产业园项目",
          "建设加工厂房{plant_sqm}平方米、冷链仓储及示范基地{mu}亩", "加工厂房及基地",
          (3_000, 30_000), "county|市农业农村局", "市乡村振兴局|市商务局",
          "柳州{brand}农业发展有限公司|soe:agri", "13", approval="03", counties=_RURAL,
          finish="建成投产"),
    # 民生保障
    _kind("民生保障", "柳州市第{ordinal}中学{place}校区建设项目|{county}{place}中学新建项目|"
          "{place}小学新建项目",
          "新建教学楼、综合楼、风雨操场等，总建筑面积{sqm}平方米，办学规模{classes}个班",
          "教学楼及综合楼主体", (5_000, 60_000), "市教育局|市教育局|county|soe:education",
          "county|市住房城乡建设局",
          "柳州市教育局|{county}教育局|soe:education", "83", weight=5),
    _kind("民生保障", "柳州市第{hospital}人民医院{place}院区建设项目",
          "新建门急诊医技楼、住院楼等，总建筑面积{hospital_sqm}平方米，设置床位{beds}张",
          "门急诊医技楼及住院楼", (30_000, 300_000), "市卫生健康委|市卫生健康委|soe:health",
          "county|市住房城乡建设局|市医疗保障局", "柳州市第{hospital}人民医院|soe:health", "84",
          weight=2),
    _kind("民生保障", "{county}人民医院{building}建设项目|{county}妇幼保健院迁建项目",
          "新建{building}及配套用房，总建筑面积{hospital_sqm}平方米，设置床位{beds}张",
          "医疗用房主体", (10_000, 100_000), "county|市卫生健康委",
          "市卫生健康委|市医疗保障局|county", "{county}人民医院|{county}卫生健康局", "84",
          weight=2),
    _kind("民生保障", "{place}保障性租赁住房项目|{place}安置房建设项目（{phase}）",
          "建设住房{homes}套，总建筑面积{sqm}平方米，配套建设地下车库及公共服务设施",
          "住宅楼主体", (10_000, 300_000), "市住房城乡建设局|county|soe:housing",
          "county|市自然资源和规划局", "soe:housing|{county}城乡建设投资有限公司", "70", weight=5),
    _kind("民生保障", "{county}老旧小区改造项目（{place}片区）|{place}城中村改造项目",
          "改造老旧小区{few}个，涉及{households}户，实施水电气管网、外立面、加装电梯等改造",
          "管网更新及外立面改造", (3_000, 30_000), "county|市住房城乡建设局",
          "市住房城乡建设局|市城市管理行政执法局", "{county}住房和城乡建设局|soe:housing", "47",
          weight=4),
    _kind("民生保障", "柳州市{place}全民健身中心项目|{county}体育中心建设项目",
          "建设体育馆、游泳馆及室外运动场，总建筑面积{sqm}平方米", "场馆主体及室外场地",
          (5_000, 120_000), "市体育局|county", "county|市住房城乡建设局", "柳州市体育局|soe:city",
          "89"),
    _kind("民生保障", "{county}文化中心建设项目|柳州市{place}图书馆新馆建设项目",
          "建设图书馆、文化馆、档案馆等，总建筑面积{sqm}平方米", "场馆主体及布展",
          (5_000, 80_000), "市文化广电和旅游局|county", "county|市住房城乡建设局",
          "柳州市文化广电和旅游局|{county}文化旅游投资有限公司", "88"),
    _kind("民生保障", "柳州市{place}养老服务中心项目|{county}{place}康养中心建设项目",
          "建设养老用房{sqm}平方米，设置养老床位{care_beds}张及医养结合服务设施",
          "养老用房主体", (3_000, 40_000), "市民政局|county", "市卫生健康委|市退役军人事务局|county",
          "柳州市民政局|{county}民政局|soe:health", "85"),
    _kind("民生保障", "柳州{brand}职业技术学院{place}校区建设项目|柳州市{place}公共实训基地建设项目",
          "建设教学实训楼、学生宿舍等，总建筑面积{sqm}平方米，可容纳学生{students}人",
          "实训楼及宿舍主体", (10_000, 150_000), "市人力资源社会保障局|市教育局",
          "county|市住房城乡建设局", "soe:education", "83"),
    _kind("民生保障", "柳州市{place}消防救援站建设项目|柳州市{place}应急物资储备中心建设项目",
          "建设业务用房及训练场地，总建筑面积{sqm}平方米", "业务用房主体",
          (2_000, 15_000), "市应急管理局|county", "county|市住房城乡建设局", "柳州市应急管理局",
          "92", weight=1),
    _kind("民生保障", "柳州市公安局{place}分局业务技术用房建设项目|柳州市{place}公安检查站建设项目",
          "建设业务技术用房及配套设施，总建筑面积{sqm}平方米", "业务技术用房主体",
          (3_000, 30_000), "市公安局", "county|市住房城乡建设局", "柳州市公安局", "92",
          weight=1),
    _kind("民生保障", "柳州市{place}检验检测认证中心建设项目|柳州市食品药品检验检测中心迁建项目",
          "建设检验检测实验楼及配套用房，总建筑面积{sqm}平方米", "实验楼主体",
          (3_000, 30_000), "市市场监督管理局", "county|市科技局",
          "柳州市市场监督管理局|soe:city", "74", weight=1),
    # 生态环保
    _kind("生态环保", "{river}流域水环境综合治理工程|{river}（{place}段）综合整治工程",
          "治理河道{river_km}公里，建设截污管网{pipe_km}公里及生态护岸、滨水步道",
          "截污管网及生态护岸", (10_000, 150_000), "市生态环境局|市水利局|county",
          "county|市住房城乡建设局|市林业和园林局", "soe:eco|soe:water", "77", weight=4),
    _kind("生态环保", "{place}污水处理厂扩建及提标改造工程（{phase}）|{county}{place}污水处理厂工程",
          "新增污水处理规模{sewage}万吨/日，出水执行一级A标准，配套建设管网{pipe_km}公里",
          "厂区构筑物及配套管网", (5_000, 60_000), "市住房城乡建设局|county|soe:water",
          "市生态环境局|county", "soe:water|soe:eco", "46", weight=3),
    _kind("生态环保", "{county}生活垃圾焚烧发电项目|柳州市{place}餐厨垃圾资源化处理项目",
          "建设处理线{few}条，日处理垃圾{tpd}吨，配套建设渗滤液处理站", "主厂房及处理线",
          (10_000, 120_000), "市城市管理行政执法局|county|soe:eco", "市生态环境局|市发展改革委",
          "soe:eco|柳州{brand}环保能源有限公司", "78", approval="02", weight=2),
    _kind("生态环保", "{county}{place}历史遗留废弃矿山生态修复工程",
          "修复治理矿山面积{hectares}公顷，实施削坡整形、覆土复绿和截排水工程",
          "削坡整形及复绿", (2_000, 30_000), "市自然资源和规划局|county|soe:eco",
          "county|市林业和园林局|市生态环境局", "{county}自然资源局|soe:eco", "77", weight=2),
    _kind("生态环保", "{county}农村生活污水治理项目（{phase}）|{county}{place}镇村污水处理工程",
          "建设农村污水处理设施{many}座及配套管网{pipe_km}公里", "处理设施及管网",
          (2_000, 20_000), "county|市生态环境局", "市农业农村局|市乡村振兴局|市住房城乡建设局",
          "{county}城乡建设投资有限公司|soe:eco", "77", counties=_RURAL),
    _kind("生态环保", "{place}湿地公园建设项目|{river}（{place}段）生态廊道建设项目",
          "恢复湿地及生态缓冲带{hectares}公顷，建设生态步道{river_km}公里及科普设施",
          "湿地恢复及步道", (3_000, 40_000), "市林业和园林局|county", "市生态环境局|市水利局",
          "soe:eco|{county}城乡建设投资有限公司", "77", weight=1),
)

# ---- units --------------------------------------------------------------------------------

# 市直部门: (name, code, 责任专员 title, 联络员 department).
DEPARTMENTS = (
    ("市发展改革委", "FGW", "副主任", "重大项目科"),
    ("市工业和信息化局", "GXJ", "副局长", "投资与规划科"),
    ("市住房城乡建设局", "ZJJ", "副局长", "计划财务科"),
    ("市交通运输局", "JTJ", "副局长", "规划建设科"),
    ("市水利局", "SLJ", "副局长", "规划计划科"),
    ("市教育局", "JYJ", "副局长", "发展规划科"),
    ("市卫生健康委", "WJW", "副主任", "规划发展与信息化科"),
    ("市生态环境局", "STHJ", "副局长", "规划财务科"),
    ("市自然资源和规划局", "ZRZY", "副局长", "国土空间规划科"),
    ("市城市管理行政执法局", "CGJ", "副局长", "市政设施科"),
    ("市商务局", "SWJ", "副局长", "市场体系建设科"),
    ("市投资促进局", "TCJ", "副局长", "项目推进科"),
    ("市农业农村局", "NYJ", "副局长", "计划财务科"),
    ("市乡村振兴局", "XCZX", "副局长", "规划财务科"),
    ("市文化广电和旅游局", "WLJ", "副局长", "产业发展科"),
    ("市体育局", "TYJ", "副局长", "群众体育科"),
    ("市民政局", "MZJ", "副局长", "养老服务科"),
    ("市科技局", "KJJ", "副局长", "高新技术科"),
    ("市林业和园林局", "LYJ", "副局长", "规划建设科"),
    ("市大数据发展局", "DSJ", "副局长", "基础设施科"),
    ("市人力资源社会保障局", "RSJ", "副局长", "规划财务科"),
    ("市应急管理局", "YJJ", "副局长", "规划财务科"),
    ("市医疗保障局", "YBJ", "副局长", "规划财务科"),
    ("市市场监督管理局", "SCJ", "副局长", "综合规划科"),
    ("市国资委", "GZW", "副主任", "规划发展科"),
    ("市公安局", "GAJ", "副局长", "警务保障处"),
    ("市邮政管理局", "YZJ", "副局长", "市场监管科"),
    ("市退役军人事务局", "TYJR", "副局长", "规划财务科"),
)
# Fictional state-owned companies: (name, code, line of business).
COMPANIES = (
    ("柳州市鹤翔城市建设投资集团有限公司", "HXCT", "city"),
    ("柳州市江岸新城发展有限公司", "JAXC", "city"),
    ("柳州市桂中交通投资发展集团有限公司", "GZJT", "traffic"),
    ("柳州市畅行路桥建设有限公司", "CXLQ", "traffic"),
    ("柳州市清源水务集团有限公司", "QYSW", "water"),
    ("柳州市鹿鸣产业投资集团有限公司", "LMCT", "industry"),
    ("柳州市工业园区开发运营有限公司", "GYKF", "industry"),
    ("柳州市安居保障住房投资有限公司", "AJZF", "housing"),
    ("柳州市文旅康养产业集团有限公司", "WLKY", "tourism"),
    ("柳州市绿源环境产业集团有限公司", "LYHJ", "eco"),
    ("柳州市通达物流集团有限公司", "TDWL", "logistics"),
    ("柳州市龙电能源发展有限公司", "LDNY", "energy"),
    ("柳州市医疗健康投资有限公司", "YLJK", "health"),
    ("柳州市教育发展投资有限公司", "JYFZ", "education"),
    ("柳州市农业投资发展集团有限公司", "NYTZ", "agri"),
    ("柳州市数字城市运营有限公司", "SZCS", "digital"),
)
AGENTS = ("柳州市建设工程代建管理中心", "广西柳工建设项目管理有限公司",
          "广西华构工程管理咨询有限公司")
CLERK_TITLES = ("科员", "一级科员", "四级主任科员", "三级主任科员")
COMPANY_TITLES = ("副总经理", "总经理助理")
COMPANY_DEPARTMENTS = ("投资发展部", "工程管理部", "计划经营部")
MOBILE_PREFIXES = tuple(("130 131 132 133 135 136 137 138 139 150 151 152 153 155 157 158 159 "
                   "180 181 182 183 186 187 188 189").split())
EMAIL_DOMAIN = "example.cn"


# ---- solving the seed's figures -----------------------------------------------------------

def _wan(yi: str) -> int:
    """A printed 亿元 figure in whole 万元 (exact: two places of 亿元 are whole 万元)."""
    amount = Decimal(yi) * WAN_PER_YI
    if amount != amount.to_integral_value():
        raise ValueError(f"{yi} 亿元不是整万元")
    return int(amount)


def _rounds_to(amount_wan: int, printed_yi: str) -> bool:
    return to_yi(Decimal(amount_wan)) == Decimal(printed_yi)


def solve_sums(rng: random.Random,
               figures: Sequence[tuple[str | None, str | None, int, str, str | None]]
               = SEED_FIGURES) -> dict[Key, tuple[int, int | None]]:
    """Exact sector sums (万元) that reproduce every printed figure when rounded once.

    Each (阶段, 行业) sum lies within half a cent of its own printed figure; on top of that
    every stage total and the 实施 grand total must round to what is printed — which is why
    the sums cannot simply be the printed figures (the seed's 续建 sectors print 3182.44
    but its total 3182.43). Offsets are drawn from ``rng`` until all totals come out right.
    Returns ``{(stage, sector): (total_wan, annual_wan or None)}`` for the sector rows.
    """
    counts = {(stage, sector): count for stage, sector, count, _t, _a in figures}
    for stage in (*IMPLEMENTATION_STAGES, "预备"):
        if sum(counts[(stage, sector)] for sector in SECTORS) != counts[(stage, None)]:
            raise ValueError(f"{stage}各行业项目数之和与合计不符")
    totals = {(stage, sector): total for stage, sector, _c, total, _a in figures}
    annuals = {(stage, sector): annual for stage, sector, _c, _t, annual in figures if annual}
    total_sums = _solve(rng, totals, IMPLEMENTATION_STAGES) | _solve(rng, totals, ("预备",))
    annual_sums = _solve(rng, annuals, IMPLEMENTATION_STAGES)
    return {key: (amount, annual_sums.get(key)) for key, amount in total_sums.items()}


def _solve(rng: random.Random, printed: dict[Key, str], stages: Sequence[str]) -> dict[Key, int]:
    """Sector sums of ``stages`` for one column of figures; several stages must also meet
    the 实施 grand total."""
    grand = printed[(None, None)] if len(stages) > 1 else None
    for _ in range(10_000):
        sums: dict[Key, int] = {}
        for stage in stages:
            for _ in range(10_000):
                draft: dict[Key, int] = {
                    (stage, sector): _wan(printed[(stage, sector)])
                    + rng.randint(-_HALF_CENT_WAN, _HALF_CENT_WAN - 1) for sector in SECTORS}
                if _rounds_to(sum(draft.values()), printed[(stage, None)]):
                    sums |= draft
                    break
            else:
                raise ValueError(f"{stage}的合计无法由各行业数字凑出")
        if grand is None or _rounds_to(sum(sums.values()), grand):
            return sums
    raise ValueError("实施项目合计无法由各阶段数字凑出")


def allocate(total: int, weights: Sequence[int], caps: Sequence[int] | None = None) -> list[int]:
    """Split ``total`` into whole shares proportional to ``weights``, summing exactly.

    Largest remainder (ties to the earlier item). With ``caps``, no share exceeds its cap:
    capped shares are fixed and the rest is split again among the others.
    """
    if not weights or any(w <= 0 for w in weights):
        raise ValueError("权重必须为正")
    shares = [0] * len(weights)
    free = list(range(len(weights)))
    remaining = total
    while True:
        part = _largest_remainder(remaining, [weights[i] for i in free])
        over = [i for i, share in zip(free, part, strict=True) if caps and share > caps[i]]
        if not over:
            for i, share in zip(free, part, strict=True):
                shares[i] = share
            return shares
        for i in over:
            shares[i] = caps[i] if caps else 0
            remaining -= shares[i]
            free.remove(i)
        if not free:
            raise ValueError("上限之和小于总额，无法分配")


def _largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    whole = sum(weights)
    shares = [total * w // whole for w in weights]
    remainders = [total * w % whole for w in weights]
    leftover = total - sum(shares)
    for i in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:leftover]:
        shares[i] += 1
    return shares


# ---- small helpers over the seeded generator ----------------------------------------------

def _pick(rng: random.Random, items: Sequence[T], weights: Sequence[int]) -> T:
    """One item, chosen with integer weights (no float anywhere)."""
    point = rng.randint(1, sum(weights))
    for item, weight in zip(items, weights, strict=True):
        point -= weight
        if point <= 0:
            return item
    raise AssertionError("unreachable")


def _skewed(rng: random.Random, low: int, high: int) -> int:
    # The smaller of two draws: many modest projects, a few big ones.
    return min(rng.randint(low, high), rng.randint(low, high))


def _decimal_text(value: int, places: int) -> str:
    if places == 0:
        return str(value)
    whole, part = divmod(value, 10**places)
    return f"{whole}.{part:0{places}d}"


# Sizes in content text are worked out from the amount, so a bigger project is a longer road:
# name → (万元 per unit, low, high, decimal places); or a tuple of texts to choose from.
_PER_UNIT: dict[str, tuple[int, int, int]] = {
    "km": (2_500, 10_000, 1), "highway_km": (8_000, 16_000, 1), "rail_km": (5_000, 20_000, 1),
    "river_km": (800, 4_000, 1), "pipe_km": (300, 1_500, 1), "bridge_m": (40, 100, 0),
    "mu": (30, 150, 0), "storage": (5, 30, 0), "wan_mu": (800, 3_000, 1), "beds": (80, 200, 0),
    "care_beds": (15, 40, 0), "racks": (30, 80, 0), "homes": (25, 45, 0), "households": (2, 6, 0),
    "sets": (300, 3_000, 0), "steel": (2_000, 6_000, 0), "bags": (2, 8, 0),
    "robots": (80, 300, 0), "freight": (50, 300, 0), "gwh": (20_000, 40_000, 1),
    "sewage": (3_000, 8_000, 1), "tpd": (40, 80, 0), "hectares": (20, 80, 0),
}
_PER_TENTH: dict[str, tuple[int, int]] = {  # 万元 per square metre, in tenths
    "sqm": (3, 8), "plant_sqm": (5, 15), "hospital_sqm": (6, 12),
}
_CHOICES: dict[str, tuple[str, ...]] = {
    "road_width": ("24米，双向四车道", "30米，双向四车道", "40米，双向六车道", "50米，双向六车道",
                   "60米，双向八车道"),
    "deck": ("26米，双向四车道", "33米，双向六车道", "40米，双向八车道"), "lanes": ("四", "六", "八"),
    "span": ("80", "120", "150", "180", "220"),
    "few": ("2", "3", "4", "5", "6"), "many": ("12", "18", "24", "36", "48", "60", "120"),
    "students": ("3000", "5000", "8000", "10000", "12000"), "phase": PHASES,
    "pipe": PIPES, "logistics": LOGISTICS, "part": PARTS, "crop": CROPS, "river": RIVERS,
    "destination": DESTINATIONS, "building": BUILDINGS, "ordinal": ORDINALS, "hospital": HOSPITAL_ORDINALS,
}


class _Fields(dict[str, str]):
    """The fields of a project's texts, each drawn the first time a template asks for it."""

    def __init__(self, rng: random.Random, county: str, amount: int) -> None:
        super().__init__(county=county.split("（")[0])
        self.rng, self.full_county, self.amount = rng, county, amount

    def __missing__(self, key: str) -> str:
        rng = self.rng
        value: str
        if key in _PER_UNIT:
            low, high, places = _PER_UNIT[key]
            value = _decimal_text(max(self.amount * 10**places // rng.randint(low, high), 1),
                                  places)
        elif key in _PER_TENTH:
            low, high = _PER_TENTH[key]
            value = str(max(self.amount * 10 // rng.randint(low, high) // 100 * 100, 500))
        elif key in _CHOICES:
            value = rng.choice(_CHOICES[key])
        elif key == "classes":  # schools are planned in whole grades of six classes
            value = str(max(self.amount // rng.randint(100, 250) // 6 * 6, 12))
        elif key == "place":
            value = rng.choice(PLACES.get(self.full_county, [self["county"]]))
        elif key == "road":
            value = rng.choice(ROADS) + rng.choice(ROAD_SUFFIXES)
        elif key == "brand":
            value = rng.choice(BRAND_HEADS) + rng.choice(BRAND_TAILS)
        else:
            raise KeyError(key)
        self[key] = value
        return value


# ---- building the sample ------------------------------------------------------------------

@dataclass
class _Draft:
    """A project before it becomes a ``Project``: its kind and size are settled first."""

    stage: str
    sector: str
    kind: ProjectKind
    county: str
    nominal: int
    total: int = 0
    annual: int | None = None
    units: list[str] | None = None


class _Builder:
    """Makes the sample's projects and units from one seeded generator, in a fixed order."""

    def __init__(self, master: Master, rng: random.Random) -> None:
        self.master, self.rng = master, rng
        self.counties = list(master.settings.counties)
        self.county_units = {c: _government(c) for c in self.counties}
        self.companies: dict[str, list[str]] = {}
        for name, _code, line in COMPANIES:
            self.companies.setdefault(line, []).append(name)
        self.department_names = [d[0] for d in DEPARTMENTS]
        self.names: set[str] = set()  # membership only: never iterated
        self.serials: set[int] = set()
        self.people: set[str] = set()
        self.free_ids = master.free_project_ids()  # the projects are numbered in turn

    # -- kinds, counties and sizes --
    def county_for(self, kind: ProjectKind) -> str:
        pool = [c for c in kind.counties if c in self.counties] or self.counties
        return _pick(self.rng, pool, [COUNTY_WEIGHTS.get(c, 2) for c in pool])

    def draft(self, stage: str, sector: str, count: int, target: int) -> list[_Draft]:
        kinds = [k for k in PROJECT_KINDS if k.sector == sector]
        drafts = [self._new_draft(stage, sector, _pick(self.rng, kinds, [k.weight for k in kinds]))
                  for _ in range(count)]
        # The seed fixes each sector's sum; swap kinds until the usual sizes add up to about
        # that sum, so a project's amount stays near what such projects really cost.
        for _ in range(20 * count):
            nominal = sum(d.nominal for d in drafts)
            if nominal * 3 < target * 2:
                grow = True
            elif nominal * 2 > target * 3:
                grow = False
            else:
                break
            i = self.rng.randrange(count)
            size = sum(drafts[i].kind.cost)
            choices = [k for k in kinds if (sum(k.cost) > size) == grow and sum(k.cost) != size]
            if choices:
                drafts[i] = self._new_draft(stage, sector, self.rng.choice(choices))
        return drafts

    def _new_draft(self, stage: str, sector: str, kind: ProjectKind) -> _Draft:
        return _Draft(stage, sector, kind, self.county_for(kind), _skewed(self.rng, *kind.cost))

    def amounts(self, drafts: list[_Draft], total: int, annual: int | None) -> None:
        for draft, share in zip(drafts, allocate(total, [d.nominal for d in drafts]), strict=True):
            draft.total = share
        if annual is None:
            return
        # This year's money follows the size of the project, give or take 40 %; the caps keep
        # some of every project for other years (续建, 竣工: some was spent before).
        weights = [d.total * self.rng.randint(60, 140) for d in drafts]
        tenths = {"新开工": 7, "续建": 8, "竣工": 9}[drafts[0].stage]
        caps = [d.total * tenths // 10 for d in drafts]
        for d, share in zip(drafts, allocate(annual, weights, caps), strict=True):
            d.annual = share

    # -- one project --
    def project(self, draft: _Draft) -> Project:
        rng, year = self.rng, self.master.year
        kind = draft.kind
        fields = _Fields(rng, draft.county, draft.total)
        name = self._unique_name(kind, fields)
        content = kind.content.format_map(fields)
        start, end, planned_start, planned_end = self._schedule(draft)
        prior = None
        annual = None if draft.annual is None else Decimal(draft.annual)
        if draft.stage == "新开工":
            prior = 0
        elif draft.stage == "续建":
            remaining = draft.total - _known(draft.annual)
            elapsed = 100 * (year - start) // (end - start + 1)
            percent = min(max(elapsed + rng.randint(-10, 10), 5), 95)
            prior = max(remaining * percent // 100, 1)
        elif draft.stage == "竣工":
            prior = draft.total - _known(draft.annual)
        owner = self._owner(kind, fields)
        return Project(
            id=next(self.free_ids),
            code=self._code(draft, start),
            name=name, stage=cast(Stage, draft.stage), sector=cast(Sector, draft.sector),
            county=draft.county,
            content=content, years=(start, end), total_investment=Decimal(draft.total),
            prior_completed=None if prior is None else Decimal(prior), annual_plan=annual,
            annual_content=self._annual_content(draft, planned_start, planned_end, prior),
            planned_start=planned_start, planned_end=planned_end,
            units=list(draft.units or []), owner=owner, agent=self._agent(owner),
        )

    def _unique_name(self, kind: ProjectKind, fields: _Fields) -> str:
        for attempt in range(60):
            if attempt:  # a taken name: draw the place, company and phase again
                for key in ("place", "road", "brand", "phase", "river", "part", "crop",
                            "logistics", "ordinal", "hospital", "destination", "pipe",
                            "building"):
                    fields.pop(key, None)
            name = self.rng.choice(kind.names).format_map(fields)
            if name not in self.names:
                break
        base = _PHASE_SUFFIX.sub("", name)
        number = 2
        while name in self.names:  # rare: the kind's names are used up in this county
            name = f"{base}（{_cn(number)}期）"
            number += 1
        self.names.add(name)
        return name

    def _schedule(self, draft: _Draft) -> tuple[int, int, date, date | None]:
        rng, year = self.rng, self.master.year
        # Bigger projects take longer.
        length = 1 + min(draft.total // 150_000, 2) + rng.randint(0, 1)
        if draft.stage == "新开工":
            start, end = year, year + length
            start_month = _pick(rng, range(1, 13), (8, 10, 14, 12, 10, 9, 6, 5, 5, 4, 3, 2))
        elif draft.stage == "续建":
            start, end = rng.randint(year - 4, year - 1), rng.randint(year + 1, year + 4)
            start_month = rng.randint(1, 12)
        elif draft.stage == "竣工":
            start, end = rng.randint(year - 4, year - 1), year
            start_month = rng.randint(1, 12)
        else:
            start = _pick(rng, (year + 1, year + 2), (4, 1))
            end, start_month = start + length, _pick(rng, range(1, 13), (3, 4, 6, 6, 5, 5,
                                                                          4, 3, 3, 3, 2, 2))
        planned_start = date(start, start_month, 1)
        if draft.stage == "预备":
            return start, end, planned_start, None  # the 预备项目 sheet has no 计划竣工时间
        if draft.stage == "竣工":
            end_month = _pick(rng, range(1, 13), (1, 1, 2, 3, 4, 6, 5, 5, 6, 7, 8, 12))
        else:
            end_month = rng.randint(1, 12)
        return start, end, planned_start, date(end, end_month, 1)

    def _annual_content(self, draft: _Draft, planned_start: date, planned_end: date | None,
                        prior: int | None) -> str | None:
        if draft.annual is None:
            return None
        works = draft.kind.works
        done = 100 * (draft.annual + (prior or 0)) // draft.total
        if draft.stage == "新开工":
            return f"{planned_start.month}月开工建设，推进{works}施工，年内完成总工程量的{done}%"
        if draft.stage == "续建":
            return f"加快推进{works}建设，年底累计完成总工程量的{done}%"
        month = planned_end.month if planned_end else 12
        return f"完成{works}剩余工程，{month}月竣工验收并{draft.kind.finish}"

    def _owner(self, kind: ProjectKind, fields: _Fields) -> str:
        owner = self.rng.choice(kind.owners)
        if owner.startswith("soe:"):
            return self.rng.choice(self.companies[owner[4:]])
        return owner.format_map(fields)

    def _agent(self, owner: str) -> str | None:
        # Agencies, schools and hospitals hand their building work to an agent (代建) — often.
        if owner.endswith(("局", "中学", "医院", "委")) and self.rng.randint(1, 10) <= 6:
            return self.rng.choice([*AGENTS, *self.companies["city"]])
        return None

    def _code(self, draft: _Draft, start: int) -> str | None:
        rng = self.rng
        if rng.randint(1, 100) > (55 if draft.stage == "预备" else 92):
            return None  # not yet registered on the national platform
        year = min(start, self.master.year) - rng.randint(0, 1)
        area = AREA_CODES.get(draft.county, CITY_AREA_CODE)
        serial = rng.randint(1, 999_999)
        while serial in self.serials:
            serial = rng.randint(1, 999_999)
        self.serials.add(serial)
        return f"{year}-{area}-{draft.kind.industry}-{draft.kind.approval}-{serial:06d}"

    # -- units --
    def choose_units(self, draft: _Draft) -> None:
        rng, kind = self.rng, draft.kind
        units = [self._resolve(rng.choice(kind.leads), draft.county)]
        partners = list(kind.partners)
        rng.shuffle(partners)
        for token in partners[:_pick(rng, (0, 1, 2), (3, 5, 2))]:
            name = self._resolve(token, draft.county)
            if name not in units:
                units.append(name)
        # The county government answers for land clearance (征地拆迁) of projects on its soil.
        government = self.county_units[draft.county]
        if government not in units and len(units) < 3 and rng.randint(1, 10) <= 4:
            units.append(government)
        draft.units = units

    def _resolve(self, token: str, county: str) -> str:
        if token == "county":
            return self.county_units[county]
        if token.startswith("soe:"):
            return self.rng.choice(self.companies[token[4:]])
        if token not in self.department_names:
            raise ValueError(f"未知单位：{token}")
        return token

    def units(self) -> list[Unit]:
        units = [self._unit(self.county_units[c], COUNTY_CODES.get(c, f"X{i:02d}"), "county")
                 for i, c in enumerate(self.counties, start=1)]
        units += [self._unit(name, code, "department", title, section)
                  for name, code, title, section in DEPARTMENTS]
        units += [self._unit(name, code, "company") for name, code, _line in COMPANIES]
        return units

    def _unit(self, name: str, code: str, sort: str, title: str = "",
              section: str = "") -> Unit:
        rng = self.rng
        if sort == "county":
            level = "区" if name.endswith("区人民政府") else "县"
            if name.endswith("管委会"):
                commissioner, office = "副主任", "经济发展局"
            else:
                commissioner, office = f"副{level}长", f"{level}发展和改革局"
            liaison_title = office + rng.choice(("局长", "副局长"))
            informant_title = office + rng.choice(CLERK_TITLES)
        elif sort == "department":
            commissioner = title
            liaison_title = section + rng.choice(("科长", "副科长"))
            informant_title = section + rng.choice(CLERK_TITLES)
        else:
            commissioner = rng.choice(COMPANY_TITLES)
            department = rng.choice(COMPANY_DEPARTMENTS)
            liaison_title = department + rng.choice(("经理", "副经理"))
            informant_title = department + "专员"
        mailbox = code.lower()
        category = {"county": UnitCategory.COUNTY, "department": UnitCategory.DEPARTMENT,
                    "company": UnitCategory.ENTERPRISE}[sort]
        return Unit(
            name=name, code=code, category=category,
            commissioner_name=self._person(), commissioner_title=commissioner,
            commissioner_phone=self._landline() if rng.randint(1, 10) <= 6 else self._mobile(),
            commissioner_email=f"{mailbox}.zrzy@{EMAIL_DOMAIN}",
            liaison_name=self._person(), liaison_title=liaison_title,
            liaison_phone=self._mobile() if rng.randint(1, 10) <= 7 else self._landline(),
            liaison_email=f"{mailbox}.lly@{EMAIL_DOMAIN}",
            informant_name=self._person(), informant_title=informant_title,
            informant_phone=self._mobile(), informant_email=f"{mailbox}.xxy@{EMAIL_DOMAIN}",
        )

    def _person(self) -> str:
        rng = self.rng
        while True:
            given = "".join(rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2))))
            name = rng.choice(SURNAMES) + given
            if name not in self.people:
                self.people.add(name)
                return name

    def _mobile(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randint(0, 99_999_999):08d}"

    def _landline(self) -> str:
        return f"0772-{self.rng.choice('238')}{self.rng.randint(0, 999_999):06d}"


def _government(county: str) -> str:
    """The 县区 government that is a 责任单位: 人民政府, or 管委会 for a new district."""
    return f"{county}管委会" if "新区" in county else f"{county}人民政府"


def _known(value: int | None) -> int:
    if value is None:
        raise ValueError("实施项目缺少年度计划投资")
    return value


def _cn(number: int) -> str:
    return "零一二三四五六七八九十"[number] if number <= 10 else str(number)


def _spread_leads(drafts: list[_Draft], names: list[str]) -> None:
    """Let every unit lead a project where it can: a unit that only ever follows takes the
    lead of a project whose lead has others to report."""
    leads: dict[str, int] = {}
    for d in drafts:
        lead = (d.units or [""])[0]
        leads[lead] = leads.get(lead, 0) + 1
    for name in names:
        if leads.get(name):
            continue
        for d in drafts:
            units = d.units or []
            if name in units[1:] and leads[units[0]] > 1:
                leads[units[0]] -= 1
                units.remove(name)
                units.insert(0, name)
                leads[name] = 1
                break


def build_sample(seed: int = SAMPLE_SEED) -> Master:
    """The embedded Liuzhou 2022 sample: a master whose summary is the seed's 工作任务.

    Same data on every call. The master's secret key is fresh (it is a key, not data).
    """
    rng = random.Random(seed)
    master = new_master(SAMPLE_YEAR)
    master.settings.city = CITY
    master.settings.publisher = PUBLISHER
    builder = _Builder(master, rng)
    sums = solve_sums(rng)
    master.units = builder.units()
    drafts: list[_Draft] = []
    for stage in (*IMPLEMENTATION_STAGES, "预备"):  # 实施 first: their 项目编号 come first
        for sector in SECTORS:
            count = next(row[2] for row in SEED_FIGURES if row[:2] == (stage, sector))
            total, annual = sums[(stage, sector)]
            group = builder.draft(stage, sector, count, total)
            builder.amounts(group, total, annual)
            drafts += group
    for draft in drafts:
        builder.choose_units(draft)
    _spread_leads(drafts, [u.name for u in master.units])
    for draft in drafts:
        master.projects.append(builder.project(draft))
    return master

