from sqlmodel import Field, SQLModel


class ClassificationNode(SQLModel, table=True):
    """A node of the battery taxonomy; its code is its materialised path."""

    __tablename__ = "classification_node"

    code: str = Field(primary_key=True, max_length=200)
    parent: str | None = Field(default=None, foreign_key="classification_node.code", index=True)
    name_en: str = Field(max_length=300)
    name_zh: str = Field(max_length=300)
    stage: str = Field(max_length=20)
    dimensions: str = Field(max_length=200)
    allows_credit: bool = False


class Geography(SQLModel, table=True):
    __tablename__ = "geography"

    code: str = Field(primary_key=True, max_length=20)
    parent: str | None = Field(default=None, foreign_key="geography.code", index=True)
    kind: str = Field(max_length=20)
    name_en: str = Field(max_length=300)
    name_zh: str = Field(max_length=300)
