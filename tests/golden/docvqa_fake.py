"""Random but plausible document values for the document-VQA set: names (with non-ASCII
letters), vendors, addresses, dates and amounts in US, British and European writing, IDs.
Every draw goes through the `random.Random` handed in (never the global one), so a seed
fixes the whole set.
"""

from __future__ import annotations

import datetime
import random
import unicodedata
from dataclasses import dataclass

FIRST_NAMES = (
    "José", "Łukasz", "Søren", "Zoë", "François", "Małgorzata", "Jürgen", "Inés", "Björn", "Aoife",
    "Laura", "James", "Amelia", "Daniel", "Sofia", "Marcus", "Hannah", "Oliver", "Chloe", "Ethan",
    "Isabel", "Lucas", "Nora", "Victor", "Grace", "Samuel", "Emma", "Felix", "Maya", "Adrian",
    "Clara", "Tobias", "Ruth", "Hugo", "Alice", "Martin", "Irene", "Peter", "Julia", "Oscar",
)  # fmt: skip
LAST_NAMES = (
    "Chen", "Walker", "Novak", "Fischer", "Moreau", "Okafor", "Lindqvist", "Brennan", "Costa",
    "Haddad", "Kowalski", "Schmidt", "Tanaka", "Romero", "Patel", "Keller", "Dubois", "Murphy",
    "Jensen", "Rossi", "Silva", "Weber", "Nakamura", "Horvat", "Larsen", "Quinn", "Becker",
    "Müller", "Wójcik", "Østergaard", "García", "Lefèvre", "Dvořák", "Núñez", "Åberg", "Çelik", "Weiß",
)  # fmt: skip
NAME_STEMS = (
    "Northwind", "Blue Harbor", "Maple Leaf", "Silver Oak", "Redstone", "Riverside", "Summit",
    "Lakeside", "Pinecrest", "Brightway", "Evergreen", "Harborview", "Ironwood", "Sunrise",
    "Westfield", "Copperfield", "Granite Peak", "Old Mill", "Kingsbridge", "Greenleaf",
)  # fmt: skip
NAME_STEMS_ACCENTED = ("Café Noël", "Bäckerei Müller", "Åsa & Søn", "Librería Núñez", "Złota Róża")
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
    "Toronto, ON M5V 2T6", "Vienna 1010", "München 80331", "Kraków 31-042", "Zürich 8001",
    "København 1050", "Málaga 29015", "Genève 1204",
)  # fmt: skip
CITY_NAMES = (
    "Springfield", "Portland", "Leeds", "Bristol", "Lyon", "Berlin", "Munich", "Rotterdam",
    "Dublin", "Austin", "Toronto", "Vienna", "Oslo", "Porto", "Ghent", "Kraków", "Zürich", "Göteborg",
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
RELATIONS = ("Spouse", "Sister", "Brother", "Mother", "Father", "Partner", "Friend", "Daughter", "Son")
# Tables with a header row and row labels: (title, row labels, column headers in order).
MATRICES = (
    ("Sales by region", ("North", "South", "East", "West", "Central", "Overseas"), ("Q1", "Q2", "Q3", "Q4")),
    ("Units shipped per branch", ("München", "Kraków", "Zürich", "Lyon", "Porto", "Göteborg", "Leeds"),
     ("Jan", "Feb", "Mar", "Apr", "May", "Jun")),
    ("Budget by department", ("Marketing", "Research", "Support", "Logistics", "Finance", "Legal"),
     ("2021", "2022", "2023", "2024", "2025")),
    ("Orders per product line", ("Bicycles", "Helmets", "Lamps", "Saddles", "Tyres", "Locks"),
     ("Week 1", "Week 2", "Week 3", "Week 4")),
)  # fmt: skip
DOMAINS = ("example.com", "mail.example.org", "post.example.net")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")  # fmt: skip

# How a document writes dates and money, by convention: US (02/14/18, 1,234.56 USD),
# British (14/02/2018, £1,234.56) and continental European (14.02.2018, 1.234,56 €). One
# document keeps one convention; a set mixes them, so a reader has to parse them all.
CONVENTIONS = {
    "us": (("mdy", "mdy-short", "long", "iso"), ("${}", "$ {}", "{} USD", "USD {}"), (",", ".")),
    "uk": (("dmy", "short", "iso"), ("£{}", "{} GBP", "GBP {}", "£ {}"), (",", ".")),
    "eu": (("dmy-dot", "dmy-dash", "short", "iso"), ("{} €", "€ {}", "{} EUR", "EUR {}", "CHF {}", "{} CHF"),
           (".", ",")),
}  # fmt: skip


@dataclass(frozen=True)
class Writing:
    """How one document writes dates, money and plain figures, fixed per document."""

    date_format: str
    money_format: str
    separators: tuple[str, str] = (",", ".")  # (thousands, decimal)

    def date(self, day: datetime.date) -> str:
        if self.date_format == "iso":
            return day.isoformat()
        if self.date_format == "dmy":
            return f"{day.day:02d}/{day.month:02d}/{day.year}"
        if self.date_format == "dmy-dot":
            return f"{day.day:02d}.{day.month:02d}.{day.year}"
        if self.date_format == "dmy-dash":
            return f"{day.day:02d}-{day.month:02d}-{day.year}"
        if self.date_format == "mdy":
            return f"{day.month:02d}/{day.day:02d}/{day.year}"
        if self.date_format == "mdy-short":
            return f"{day.month:02d}/{day.day:02d}/{day.year % 100:02d}"
        if self.date_format == "long":
            return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"
        return f"{day.day} {MONTHS[day.month - 1][:3]} {day.year}"

    def figure(self, cents: int) -> str:
        """An amount without currency: "1,234.56" or, in European writing, "1.234,56"."""
        thousands, decimal = self.separators
        return figure(cents).replace(",", "\0").replace(".", decimal).replace("\0", thousands)

    def money(self, cents: int) -> str:
        return self.money_format.format(self.figure(cents))


def figure(cents: int) -> str:
    return f"{cents / 100:,.2f}"


class Fake:
    """Draws values from one `random.Random`."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def writing(self) -> Writing:
        dates, moneys, separators = CONVENTIONS[self.rng.choice(sorted(CONVENTIONS))]
        return Writing(self.rng.choice(dates), self.rng.choice(moneys), separators)

    def person(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"

    def shop(self) -> str:
        if self.rng.random() < 0.15:
            return self.rng.choice(NAME_STEMS_ACCENTED)
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
        first, last = fold_letters(name).lower().split()
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


def fold_letters(text: str) -> str:
    """"Łukasz Müller" -> "Lukasz Muller", for the user part of an e-mail address."""
    folded = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
    return "".join(c for c in folded if not unicodedata.combining(c))


_UNDECOMPOSED = str.maketrans({"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "ß": "ss", "Æ": "Ae", "æ": "ae"})
