"""Synthetic 职业技能等级认定人员名册 rows (valid by construction), for tests and benchmarks."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from pathlib import Path

from knowledge.certno import id_check_digit
from knowledge.extract import LEVEL_NAMES

HEADER = [
    "序号",
    "评价机构编码",
    "评价机构名称",
    "姓名",
    "证件类型",
    "证件号",
    "性别",
    "出生日期",
    "联系电话",
    "电子邮箱",
    "是否本企业职工",
    "所在单位",
    "从事本职业(工种)时间",
    "所在岗位",
    "入职时间",
    "职业编码",
    "职业名称",
    "工种名称",
    "职业技能等级",
    "证书编号",
    "发证日期",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华建国"
JOBS = [("6-18-01-01", "车工", "数控车工"), ("6-25-04-07", "焊工", "电焊工"), ("4-07-05-02", "电工", "维修电工")]


def id_number(rng: random.Random) -> str:
    body = f"320102{rng.randint(1970, 2003)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    return body + id_check_digit(body)


def cert_number(i: int, year: int = 21, level: int = 3, province: str = "32") -> str:
    return f"Y0000{province}{i // 1_000_000:06d}{year:02d}{level}{i % 1_000_000:06d}"


def rows(n: int, seed: int = 7, start: int = 0) -> Iterator[list[str]]:
    rng = random.Random(seed)
    for i in range(start, start + n):
        level = rng.randint(1, 5)
        year = rng.randint(20, 24)
        ident = id_number(rng)
        code, occupation, job = rng.choice(JOBS)
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
        yield [
            str(i + 1),
            "Y000032000001",
            "江苏某某集团有限公司",
            name,
            "居民身份证",
            ident,
            "男" if int(ident[16]) % 2 else "女",
            f"{ident[6:10]}-{ident[10:12]}-{ident[12:14]}",
            "13800000000",
            "a@example.com",
            "是",
            "江苏某某集团有限公司",
            "5年",
            "操作工",
            "2018-03-01",
            code,
            occupation,
            job,
            LEVEL_NAMES[level],
            cert_number(i, year, level),
            f"20{year}-06-{rng.randint(1, 28):02d}",
        ]


def write_csv(path: Path, n: int, seed: int = 7) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows(n, seed))
    return path
