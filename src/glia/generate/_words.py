"""Word lists of the generator: names, capabilities, cluster themes, deliverables.

Everything here is plain data. The lists are short and fixed, so generated
names are plausible ("Ana Ruiz", "Valmere Data Labs") and the same seed
always gives the same words.
"""

from __future__ import annotations

__all__ = [
    "CAPABILITIES",
    "CAPITAL_THEMES",
    "DELIVERABLES",
    "FIRST_NAMES",
    "KNOWLEDGE_THEMES",
    "LAST_NAMES",
    "ORG_SUFFIXES",
    "PLACE_ENDS",
    "PLACE_STARTS",
    "PROJECT_NOUNS",
    "ROLE_NAMES",
    "SECTORS",
    "STAGES",
    "Theme",
]

#: Capabilities: (slug, label). Slugs are what participants and needs carry.
CAPABILITIES: tuple[tuple[str, str], ...] = (
    ("agronomy", "Agronomy"),
    ("soil-science", "Soil science"),
    ("precision-farming", "Precision farming"),
    ("food-safety", "Food safety"),
    ("food-processing", "Food processing"),
    ("supply-chain", "Supply chain"),
    ("logistics", "Logistics"),
    ("cold-chain", "Cold chain"),
    ("data-engineering", "Data engineering"),
    ("machine-learning", "Machine learning"),
    ("data-science", "Data science"),
    ("cloud-infrastructure", "Cloud infrastructure"),
    ("cybersecurity", "Cybersecurity"),
    ("software-development", "Software development"),
    ("iot-sensors", "IoT sensors"),
    ("embedded-systems", "Embedded systems"),
    ("ux-design", "UX design"),
    ("product-management", "Product management"),
    ("marketing", "Marketing"),
    ("sales", "Sales"),
    ("facilitation", "Facilitation"),
    ("community-building", "Community building"),
    ("grant-writing", "Grant writing"),
    ("project-management", "Project management"),
    ("legal", "Legal"),
    ("intellectual-property", "Intellectual property"),
    ("finance", "Finance"),
    ("accounting", "Accounting"),
    ("fundraising", "Fundraising"),
    ("impact-investing", "Impact investing"),
    ("regulatory-affairs", "Regulatory affairs"),
    ("quality-assurance", "Quality assurance"),
    ("clinical-research", "Clinical research"),
    ("biotech", "Biotech"),
    ("renewable-energy", "Renewable energy"),
    ("energy-efficiency", "Energy efficiency"),
    ("circular-economy", "Circular economy"),
    ("construction", "Construction"),
    ("architecture", "Architecture"),
    ("urban-planning", "Urban planning"),
    ("tourism", "Tourism"),
    ("hospitality", "Hospitality"),
    ("education", "Education"),
    ("training", "Training"),
    ("research", "Research"),
    ("public-policy", "Public policy"),
    ("translation", "Translation"),
    ("video-production", "Video production"),
)


class Theme:
    """A cluster theme: its name, the capabilities it draws on, words for
    the names of its organizations."""

    __slots__ = ("capabilities", "name", "words")

    def __init__(self, name: str, capabilities: tuple[str, ...], words: tuple[str, ...]) -> None:
        self.name = name
        self.capabilities = capabilities
        self.words = words


#: Themes of business clusters (sectors).
SECTORS: tuple[Theme, ...] = (
    Theme(
        "Agritech",
        (
            "agronomy",
            "precision-farming",
            "iot-sensors",
            "data-science",
            "soil-science",
            "supply-chain",
        ),
        ("Agro", "Farms", "Harvest", "Fields", "Seeds", "Crop", "Orchard"),
    ),
    Theme(
        "Food",
        (
            "food-safety",
            "food-processing",
            "cold-chain",
            "supply-chain",
            "quality-assurance",
            "marketing",
        ),
        ("Foods", "Kitchen", "Dairy", "Bakery", "Provisions", "Larder"),
    ),
    Theme(
        "Logistics",
        ("logistics", "supply-chain", "cold-chain", "software-development", "data-engineering"),
        ("Logistics", "Freight", "Transport", "Cargo", "Depot"),
    ),
    Theme(
        "Health Tech",
        (
            "clinical-research",
            "regulatory-affairs",
            "software-development",
            "data-science",
            "ux-design",
            "biotech",
        ),
        ("Health", "Care", "Medical", "Bio", "Clinic", "Therapeutics"),
    ),
    Theme(
        "Clean Energy",
        (
            "renewable-energy",
            "energy-efficiency",
            "embedded-systems",
            "iot-sensors",
            "finance",
            "construction",
        ),
        ("Energy", "Solar", "Wind", "Power", "Grid", "Heat"),
    ),
    Theme(
        "Fintech",
        (
            "finance",
            "software-development",
            "cybersecurity",
            "legal",
            "data-engineering",
            "ux-design",
        ),
        ("Pay", "Capital", "Ledger", "Finance", "Credit"),
    ),
    Theme(
        "Creative Industries",
        ("video-production", "ux-design", "marketing", "community-building", "translation"),
        ("Studio", "Media", "Pictures", "Design", "Works"),
    ),
    Theme(
        "Construction",
        (
            "construction",
            "architecture",
            "urban-planning",
            "energy-efficiency",
            "project-management",
        ),
        ("Build", "Homes", "Structures", "Timber", "Stone"),
    ),
    Theme(
        "Tourism",
        ("tourism", "hospitality", "marketing", "translation", "sales"),
        ("Travel", "Tours", "Inn", "Hotels", "Trails"),
    ),
    Theme(
        "Advanced Manufacturing",
        (
            "embedded-systems",
            "quality-assurance",
            "iot-sensors",
            "supply-chain",
            "machine-learning",
        ),
        ("Industries", "Machines", "Robotics", "Tooling", "Precision"),
    ),
    Theme(
        "Circular Economy",
        (
            "circular-economy",
            "logistics",
            "regulatory-affairs",
            "grant-writing",
            "community-building",
        ),
        ("Loop", "Renew", "Reuse", "Cycle", "Materials"),
    ),
    Theme(
        "Software",
        (
            "software-development",
            "cloud-infrastructure",
            "cybersecurity",
            "product-management",
            "ux-design",
        ),
        ("Data", "Soft", "Cloud", "Digital", "Systems", "Code"),
    ),
)

#: Themes of knowledge clusters (communities of practice).
KNOWLEDGE_THEMES: tuple[Theme, ...] = (
    Theme(
        "Data and Cloud",
        ("data-engineering", "machine-learning", "cloud-infrastructure", "data-science"),
        ("Data", "Analytics", "Cloud"),
    ),
    Theme(
        "AI Research",
        ("machine-learning", "data-science", "research", "software-development"),
        ("AI", "Intelligence", "Labs"),
    ),
    Theme(
        "Design Community",
        ("ux-design", "product-management", "facilitation", "video-production"),
        ("Design", "Studio", "Craft"),
    ),
    Theme(
        "Social Innovation",
        ("facilitation", "community-building", "grant-writing", "public-policy"),
        ("Commons", "Collective", "Social"),
    ),
    Theme(
        "Legal and IP",
        ("legal", "intellectual-property", "regulatory-affairs"),
        ("Legal", "Law", "Counsel"),
    ),
    Theme(
        "Finance Circle",
        ("finance", "accounting", "fundraising", "impact-investing"),
        ("Finance", "Advisory", "Accounts"),
    ),
    Theme(
        "Education Network",
        ("education", "training", "facilitation", "research"),
        ("Academy", "Learning", "School"),
    ),
    Theme(
        "Sustainability Lab",
        ("circular-economy", "renewable-energy", "energy-efficiency", "research"),
        ("Green", "Sustainability", "Climate"),
    ),
    Theme(
        "Cybersecurity Guild",
        ("cybersecurity", "software-development", "cloud-infrastructure"),
        ("Secure", "Shield", "Cyber"),
    ),
    Theme(
        "Project Leaders",
        ("project-management", "facilitation", "sales", "product-management"),
        ("Projects", "Delivery", "Consulting"),
    ),
)

#: Names of capital clusters.
CAPITAL_THEMES: tuple[str, ...] = (
    "Seed Fund",
    "Angel Network",
    "Impact Fund",
    "Development Bank",
    "Crowdfunding Circle",
    "Venture Partners",
    "Green Investment Fund",
    "Credit Union",
)

#: Syllables that make place names: a start and an end ("Valmere", "Ashford").
PLACE_STARTS: tuple[str, ...] = (
    "Ash",
    "Bel",
    "Bran",
    "Cal",
    "Dun",
    "El",
    "Fair",
    "Glen",
    "Har",
    "Kings",
    "Lin",
    "Mar",
    "North",
    "Oak",
    "Riv",
    "Sal",
    "Stan",
    "Thorn",
    "Val",
    "Wes",
    "Wyn",
    "Bright",
    "Red",
    "Stone",
)
PLACE_ENDS: tuple[str, ...] = (
    "bridge",
    "ford",
    "haven",
    "mere",
    "moor",
    "ton",
    "vale",
    "wick",
    "field",
    "port",
    "stead",
    "burgh",
)

FIRST_NAMES: tuple[str, ...] = (
    "Ana", "Ben", "Carla", "David", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas",
    "Karin", "Luca", "Maria", "Nils", "Olga", "Pablo", "Quentin", "Rosa", "Sami", "Tara",
    "Ugo", "Vera", "Willem", "Xenia", "Yusuf", "Zofia", "Amir", "Bianca", "Cem", "Dora",
    "Emil", "Fatima", "Goran", "Hanna", "Ivan", "Julia", "Kofi", "Lena", "Marek", "Nadia",
    "Oscar", "Paula", "Rafael", "Sofia", "Tomas", "Ursula", "Victor", "Wanda", "Yara", "Zeno",
    "Aisha", "Bruno", "Chiara", "Diego", "Eva", "Filip", "Gaia", "Henrik", "Ilse", "Jan",
    "Katja", "Leo", "Mila", "Noah", "Olivia", "Piotr", "Rita", "Stefan", "Teresa", "Umar",
    "Valentina", "Wiktor", "Yannick", "Zara", "Alba", "Bram", "Clara", "Dmitri", "Elif", "Felix",
    "Giulia", "Hamid", "Irene", "Joao", "Kai", "Lucia", "Mateo", "Nora", "Omar", "Pia",
    "Ruben", "Selin", "Theo", "Uma", "Vasco", "Wen", "Yasmin", "Zoltan", "Ada", "Iker",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Ruiz", "Okafor", "Novak", "Jensen", "Moreau", "Rossi", "Schmidt", "Kowalski", "Silva",
    "Yilmaz", "Andersen", "Bakker", "Costa", "Dubois", "Eriksson", "Fischer", "Garcia",
    "Horvath", "Ivanova", "Janssen", "Keller", "Lindqvist", "Martin", "Nielsen", "Ortega",
    "Petrov", "Quinn", "Romano", "Santos", "Tanaka", "Urban", "Varga", "Weber", "Xu", "Young",
    "Zeller", "Almeida", "Berg", "Conti", "Diaz", "Esposito", "Ferrari", "Gomez", "Hansen",
    "Ionescu", "Jovanovic", "Kaya", "Lopez", "Meyer", "Nowak", "Olsen", "Popescu", "Ricci",
    "Sanchez", "Thomsen", "Umarov", "Vidal", "Wagner", "Zimmermann", "Aalto", "Boyle",
    "Castro", "Demir", "Ek", "Fontaine", "Greco", "Haas", "Iglesias", "Juhasz", "Koch",
    "Laine", "Mendes", "Nagy", "Oliveira", "Pereira", "Reyes", "Sorensen", "Torres", "Vogel",
    "Walsh", "Acosta", "Bianchi", "Carvalho", "Dahl", "Engel", "Fuchs", "Gallo", "Hoffmann",
    "Ibrahim", "Jakobsen", "Kovacs", "Lehmann", "Marino", "Navarro", "Ortiz", "Pavlov",
    "Rinaldi", "Schulz", "Toth", "Vargas", "Winter", "Zanetti", "Abbas", "Brandt", "Cruz",
    "Duarte", "Evans", "Friedrich", "Guerra", "Hakimi", "Ilic", "Jimenez", "Kruger", "Lund",
    "Moretti", "Nunez", "Ozturk", "Peters", "Ramos", "Stein", "Tamm", "Vasquez", "Wolf",
)  # fmt: skip

#: Legal and descriptive endings of organization names.
ORG_SUFFIXES: tuple[str, ...] = (
    "Ltd",
    "GmbH",
    "S.L.",
    "BV",
    "Cooperative",
    "Partners",
    "Group",
    "Labs",
    "& Co",
    "Foundation",
    "Association",
    "SA",
    "Collective",
    "Network",
)

#: Roles in the value network (Allee), qualified by a cluster in the output.
ROLE_NAMES: tuple[str, ...] = (
    "Client",
    "Supplier",
    "Solution integrator",
    "Knowledge broker",
    "Funder",
    "Investor",
    "Researcher",
    "Mentor",
    "Community host",
    "Regulator",
    "Distributor",
    "Platform operator",
    "Service provider",
    "Producer",
    "Trainer",
    "Evaluator",
    "Advocate",
    "Connector",
    "Customer",
    "Coordinator",
    "Technology partner",
    "Test bed",
)

#: Deliverable names per exchange type.
DELIVERABLES: dict[str, tuple[str, ...]] = {
    "goods": (
        "Sensor kits",
        "Processed produce",
        "Prototype units",
        "Spare parts",
        "Packaging",
        "Seed stock",
        "Field equipment",
        "Printed materials",
        "Hardware modules",
        "Raw materials",
    ),
    "service": (
        "Data platform operation",
        "Field trials",
        "Software development",
        "Training sessions",
        "Market study",
        "Workshop facilitation",
        "Legal review",
        "Quality audit",
        "Logistics handling",
        "Design sprint",
        "Cloud hosting",
        "Accounting services",
    ),
    "money": (
        "Payment",
        "Grant funding",
        "Seed investment",
        "Membership fee",
        "License fee",
        "Loan",
        "Sponsorship",
        "Milestone payment",
    ),
    "contract": (
        "Service agreement",
        "Supply contract",
        "Framework agreement",
        "Licence agreement",
        "Letter of intent",
        "Partnership agreement",
    ),
    "knowledge": (
        "Market insight",
        "Field know-how",
        "Technical advice",
        "Research findings",
        "Best practices",
        "Customer feedback",
        "Regulatory guidance",
        "Lessons learned",
        "Data access",
        "Methodology",
    ),
    "benefit": (
        "Reputation",
        "Access to network",
        "Visibility",
        "Introductions",
        "Trust",
        "Sense of belonging",
        "Credibility",
        "Peer support",
    ),
}

#: Nouns for opportunity names ("Agronomy pilot").
PROJECT_NOUNS: tuple[str, ...] = (
    "pilot",
    "project",
    "programme",
    "study",
    "roll-out",
    "audit",
    "sprint",
    "upgrade",
)

#: Pipeline stages of generated opportunities and their shares.
STAGES: tuple[tuple[str, float], ...] = (
    ("lead", 0.4),
    ("qualified", 0.3),
    ("swarming", 0.2),
    ("agreed", 0.1),
)
