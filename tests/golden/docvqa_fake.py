"""Random but plausible document values for the document-VQA set: names, vendors, addresses,
dates, amounts, IDs. Every draw goes through the `random.Random` handed in (never the global
one), so a seed fixes the whole set.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

FIRST_NAMES = (
    "Laura", "James", "Amelia", "Daniel", "Sofia", "Marcus", "Hannah", "Oliver", "Chloe", "Ethan",
    "Isabel", "Lucas", "Nora", "Victor", "Grace", "Samuel", "Emma", "Felix", "Maya", "Adrian",
    "Clara", "Tobias", "Ruth", "Hugo", "Alice", "Martin", "Irene", "Peter", "Julia", "Oscar",
)  # fmt: skip
LAST_NAMES = (
    "Chen", "Walker", "Novak", "Fischer", "Moreau", "Okafor", "Lindqvist", "Brennan", "Costa",
    "Haddad", "Kowalski", "Schmidt", "Tanaka", "Romero", "Patel", "Keller", "Dubois", "Murphy",
    "Jensen", "Rossi", "Silva", "Weber", "Nakamura", "Horvat", "Larsen", "Quinn", "Becker",
)  # fmt: skip
NAME_STEMS = (
    "Northwind", "Blue Harbor", "Maple Leaf", "Silver Oak", "Redstone", "Riverside", "Summit",
    "Lakeside", "Pinecrest", "Brightway", "Evergreen", "Harborview", "Ironwood", "Sunrise",
    "Westfield", "Copperfield", "Granite Peak", "Old Mill", "Kingsbridge", "Greenleaf",
)  # fmt: skip
SHOP_TYPES = ("Cafe", "Bakery", "Hardware", "Market", "Books", "Pharmacy", "Deli", "Electronics", "Garden Center")
FIRM_TYPES = (
    "Consulting", "Solutions Ltd", "Logistics GmbH", "Design Studio", "Software Inc.", "Services LLC",
    "Print & Copy", "Engineering AG", "Media Group",
)  # fmt: skip
STREETS = (
    "Oak", "Maple", "Elm", "Cedar", "Harbor", "Station", "Church", "Mill", "Park", "Victoria",
    "King", "Queen", "Bridge", "Market", "Willow", "Chestnut", "Hill", "Lake",
)  # fmt: skip
STREET_KINDS = ("Street", "Avenue", "Road", "Lane", "Boulevard", "Way")
CITIES = (
    "Springfield, IL 62704", "Portland, OR 97205", "Leeds LS1 4AB", "Bristol BS1 5TR", "Lyon 69002",
    "Berlin 10115", "Munich 80331", "Rotterdam 3011 AD", "Dublin D02 X285", "Austin, TX 78701",
    "Toronto, ON M5V 2T6", "Vienna 1010",
)  # fmt: skip
CITY_NAMES = (
    "Springfield", "Portland", "Leeds", "Bristol", "Lyon", "Berlin", "Munich", "Rotterdam",
    "Dublin", "Austin", "Toronto", "Vienna", "Oslo", "Porto", "Ghent",
)  # fmt: skip
SHOP_ITEMS = (
    "Espresso", "Croissant", "Orange juice", "Bagel", "Green tea", "Muffin", "Sandwich", "Salad bowl",
    "Batteries", "Light bulb", "Paint brush", "Duct tape", "Notebook", "Pencil set", "Phone charger",
    "Garden hose", "Hand soap", "Toothpaste", "Sunscreen", "Dog food", "Olive oil", "Rice 1kg",
)  # fmt: skip
SERVICES = (
    "Consulting hours", "Website hosting", "Logo design", "Office chairs", "Network setup",
    "Annual license", "Training session", "Printer toner", "Data migration", "Support plan",
    "Delivery fee", "Photo shoot", "Translation", "Server rack",
)  # fmt: skip
STOCK_ITEMS = (
    "Steel bolts", "Copper wire", "Safety gloves", "Wood screws", "Cable ties", "Work boots",
    "Drill bits", "Paint rollers", "Hinges", "Pipe clamps", "Sandpaper", "Wall plugs",
    "Ladder", "Tape measure", "Hammer", "Spirit level", "Wrench set", "Extension cord",
)  # fmt: skip
PAYMENT_METHODS = ("Cash", "Visa", "Mastercard", "Debit card", "Apple Pay", "American Express")
JOB_TITLES = ("Operations Manager", "Account Director", "Head of Sales", "Project Lead", "Office Manager")
OCCUPATIONS = ("Teacher", "Engineer", "Nurse", "Accountant", "Designer", "Electrician", "Student", "Chef")
LETTER_SUBJECTS = (
    "Renewal of maintenance contract", "Change of delivery address", "Invitation to annual meeting",
    "Confirmation of appointment", "Update to service terms", "Request for product samples",
    "Notice of office relocation", "Payment reminder for March",
)  # fmt: skip
DOMAINS = ("example.com", "mail.example.org", "post.example.net")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")  # fmt: skip

DATE_FORMATS = ("iso", "dmy", "long", "short")
# How a document writes money: the figure is always "1,234.50" (no decimal commas, which
# would be ambiguous); the currency mark varies.
MONEY_FORMATS = ("${}", "$ {}", "{} USD", "{} EUR", "EUR {}", "€{}", "£{}", "{} GBP")


@dataclass(frozen=True)
class Writing:
    """How one document writes dates and money, fixed per document."""

    date_format: str
    money_format: str

    def date(self, day: datetime.date) -> str:
        if self.date_format == "iso":
            return day.isoformat()
        if self.date_format == "dmy":
            return f"{day.day:02d}/{day.month:02d}/{day.year}"
        if self.date_format == "long":
            return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"
        return f"{day.day} {MONTHS[day.month - 1][:3]} {day.year}"

    def money(self, cents: int) -> str:
        return self.money_format.format(figure(cents))


def figure(cents: int) -> str:
    return f"{cents / 100:,.2f}"


class Fake:
    """Draws values from one `random.Random`."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def writing(self) -> Writing:
        return Writing(self.rng.choice(DATE_FORMATS), self.rng.choice(MONEY_FORMATS))

    def person(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"

    def shop(self) -> str:
        return f"{self.rng.choice(NAME_STEMS)} {self.rng.choice(SHOP_TYPES)}"

    def firm(self) -> str:
        return f"{self.rng.choice(NAME_STEMS)} {self.rng.choice(FIRM_TYPES)}"

    def street(self) -> str:
        return f"{self.rng.randint(2, 480)} {self.rng.choice(STREETS)} {self.rng.choice(STREET_KINDS)}"

    def city_line(self) -> str:
        return self.rng.choice(CITIES)

    def day(self, first_year: int = 2021, last_year: int = 2025) -> datetime.date:
        start = datetime.date(first_year, 1, 1)
        span = (datetime.date(last_year, 12, 31) - start).days
        return start + datetime.timedelta(days=self.rng.randint(0, span))

    def phone(self) -> str:
        digits = lambda n: "".join(str(self.rng.randint(0, 9)) for _ in range(n))  # noqa: E731
        return self.rng.choice((
            f"({self.rng.randint(201, 989)}) {digits(3)}-{digits(4)}",
            f"+44 20 {digits(4)} {digits(4)}",
            f"+49 30 {digits(7)}",
            f"{self.rng.randint(201, 989)}-{digits(3)}-{digits(4)}",
        ))  # fmt: skip

    def email(self, name: str) -> str:
        first, last = name.lower().split()
        user = self.rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}{self.rng.randint(1, 99)}"))
        return f"{user}@{self.rng.choice(DOMAINS)}"

    def code(self, prefix: str, digits: int) -> str:
        return f"{prefix}{self.rng.randint(10 ** (digits - 1), 10**digits - 1)}"

    def id_number(self) -> str:
        letters = "".join(self.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2))
        return self.rng.choice((f"{letters}-{self.rng.randint(100000, 999999)}", f"{letters}{self.rng.randint(1000000, 9999999)}"))

    def cents(self, low: float, high: float) -> int:
        return self.rng.randint(round(low * 100), round(high * 100))

    def sample(self, pool, count: int) -> list:
        return self.rng.sample(list(pool), count)
