"""Deterministic synthetic news corpus for brief's benchmarks.

    python benchmarks/make_corpus.py --chunks 10000 --out /tmp/corpus [--seed 7]

Articles are built from a small template grammar (topics, outlets, people with roles,
organisations, places, metrics, quotes) so the text reads like wire copy with varied
vocabulary rather than repeated lorem ipsum. Each article has 300-1500 words, a date in
2020-2025, a byline, an outlet (20 of them), section headings, attributed quotes and
figures. Most are Markdown with YAML front matter (title, author, source, date, url); the
rest are plain text (metadata lines on top), HTML pages (meta tags, page furniture) and
JSON Lines bundles, so every text loader of brief (all but PDF) is exercised.

The size is given as a target number of brief chunks (~200 word pieces, ~150 new words
each with brief's default chunking); the generator stops once its estimate reaches the
target. The same seed always gives byte-identical files. It is cheap: 100k chunks
(11.6 million words, 14,607 articles, 13,520 files) take about 4-5 s on one core. A
`.manifest.json` (ignored by brief: it starts with a dot) records the counts.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# Calibrated against brief's chunker (target 200 / max 240 estimated word pieces, 1 sentence
# overlap): a section of w words gives about max(1, round((w + _SECTION_EXTRA) / _WORDS_PER_CHUNK))
# chunks. See `--check`, which runs brief's own chunker over the output and compares.
_WORDS_PER_CHUNK = 140.0
_SECTION_EXTRA = 40

# ----- vocabulary ---------------------------------------------------------------------------------

OUTLETS = [
    ("Calloway Courier", "calloway-courier.test"),
    ("Brennick Herald", "brennick-herald.test"),
    ("Coastline Wire", "coastline-wire.test"),
    ("Veridian Business Review", "veridian-business-review.test"),
    ("The Tessaly Observer", "tessaly-observer.test"),
    ("Orrin Daily Ledger", "orrin-ledger.test"),
    ("Northgate Times", "northgate-times.test"),
    ("Marrow Valley Post", "marrow-valley-post.test"),
    ("Eastreach Bulletin", "eastreach-bulletin.test"),
    ("The Harbour Gazette", "harbour-gazette.test"),
    ("Continental Dispatch", "continental-dispatch.test"),
    ("Meridian Financial", "meridian-financial.test"),
    ("Sarnovia Press Agency", "sarnovia-press.test"),
    ("The Ridgeway Chronicle", "ridgeway-chronicle.test"),
    ("Lowland Energy Monitor", "lowland-energy.test"),
    ("Pellmoor Evening Star", "pellmoor-star.test"),
    ("Atlas Policy Journal", "atlas-policy.test"),
    ("Kestrel News Network", "kestrel-news.test"),
    ("The Civic Record", "civic-record.test"),
    ("Southbank Telegraph", "southbank-telegraph.test"),
]

FIRST = """Ines Daniel Yusra Callum Petra Mara Aurel Tomas Lena Oskar Amira Jonah Selin Rafael
Hana Victor Nadia Elias Farah Mateo Ingrid Kofi Liesel Anton Priya Bram Soraya Emil Dalia Rowan
Marta Idris Clara Henrik Leila Samir Agnes Felix Noor Stefan Alma Ruben Zora Luca Imke Tariq
Greta Milan Odile Hugo Esme Nikolai Wren Bastian Sanne Yara Casimir Thea Omar Vera Julien""".split()

LAST = """Marlow Achterberg Pell Fairweather Soames Ilves Demitrov Kovac Brandt Okafor Lindqvist
Haddad Moreau Castellan Novak Reyes Tanaka Osei Varga Whitcombe Albrecht Petrov Delacroix Mensah
Halloran Sato Ferreira Kowalczyk Nyberg Abara Quist Rahimi Stroud Valente Dragan Ekwueme Holt
Ibarra Janssen Kaur Lindgren Maalouf Nakamura Oyelaran Pruitt Rasmussen Sokolov Thorne Ueda
Vasquez Winther Yilmaz Zeller Bakker Corvin Dunmore Esposito Falk Garrow Hewitt Ivers""".split()

# Countries of a fictional region, with cities and currencies.
COUNTRIES = [
    ("Veridia", ["Port Calloway", "Aldermoor", "Veris", "Tamsford"], "crowns"),
    ("Tessaly", ["Tessaly City", "Orvane", "Kelmarsh", "Dunleigh"], "tessars"),
    ("Orrin", ["Orrin Delta", "Marrowgate", "Fennick", "Stolby"], "marks"),
    ("Brennick", ["Brennick", "Hollin", "Saltmere", "Carrow"], "pounds"),
    ("Sarnovia", ["Sarnov", "Ilmen", "Kravice", "Dolna"], "dinars"),
    ("Eldany", ["Eldan", "Westmark", "Pellmoor", "Ashby"], "eldans"),
    ("Korvath", ["Korvath", "Taruk", "Mezin", "Olvar"], "korvs"),
    ("Marvosa", ["Marvosa", "Santa Irene", "Porto Alvar", "Ciro"], "reals"),
    ("Ostland", ["Ostburg", "Hammerfeld", "Lindau", "Rekby"], "kronor"),
    ("Calidor", ["Calidor", "Vessa", "Brightwater", "Emberly"], "dollars"),
    ("Nirava", ["Nirava", "Suriport", "Kandel", "Amrit"], "rupees"),
    ("Qarssa", ["Qarssa", "Bahrun", "Al Mira", "Tennet"], "riyals"),
]

COMPANIES = """Halvard Energy|Pellmoor Freight|Aldermoor Solar|Tessaly Telecom|Northwind Shipping|
Orrin Agricultural Cooperative|Brightwater Pharmaceuticals|Saltmere Steel|Kestrel Airlines|
Veris Bank|Marrowgate Mining|Ilmen Automotive|Calidor Semiconductors|Eldan Water Utility|
Suriport Logistics|Korvath Rail|Westmark Insurance|Dunleigh Foods|Hollin Chemicals|
Ostburg Grid Company|Taruk Cement|Vessa Software|Amrit Textiles|Ciro Cement Works""".replace("\n", "").split("|")

# Topic -> vocabulary. Every field is sampled independently, so articles on one topic differ.
TOPICS: dict[str, dict[str, list]] = {
    "monetary policy": {
        "orgs": ["Central Bank of {c}", "{c} Monetary Authority", "{c} Treasury", "National Statistics Office of {c}"],
        "roles": [
            "governor of {o}",
            "chief economist at {o}",
            "deputy governor",
            "finance minister",
            "senior economist at {co}",
            "head of research at {co}",
        ],
        "terms": [
            "inflation",
            "the policy rate",
            "borrowing costs",
            "mortgage rates",
            "bond yields",
            "the currency",
            "consumer prices",
            "core inflation",
            "wage growth",
            "credit growth",
        ],
        "metrics": [
            ("consumer prices", "percent", 1.5, 11.0),
            ("the policy rate", "percent", 0.5, 9.0),
            ("the unemployment rate", "percent", 3.0, 12.0),
            ("ten-year bond yields", "percent", 2.0, 8.5),
            ("mortgage lending", "percent", -15.0, 12.0),
        ],
        "events": [
            "raised its benchmark rate",
            "held rates steady",
            "cut interest rates",
            "signalled further tightening",
            "published new inflation forecasts",
            "intervened to support the currency",
        ],
        "headlines": [
            "{o} Raises Rates to {p} Percent as Inflation Persists",
            "{o} Holds Rates Steady, Warns of Sticky Prices",
            "Inflation in {c} Slows to {p} Percent, Lowest Since {y0}",
            "{c} Borrowing Costs Climb After Surprise Rate Move",
            "Economists Split on Next Move by {o}",
        ],
        "headings": [
            "Why the bank moved",
            "What it means for borrowers",
            "Markets react",
            "The inflation picture",
            "Pressure from the government",
            "What comes next",
            "A divided committee",
        ],
    },
    "trade and sanctions": {
        "orgs": ["{c} Ministry of Trade", "{c} Customs Service", "{c} Chamber of Commerce", "{c} Export Council"],
        "roles": [
            "trade minister",
            "spokesperson for {o}",
            "president of {o}",
            "chief executive of {co}",
            "sanctions lawyer",
            "senior fellow at the Atlas Institute",
        ],
        "terms": [
            "tariffs",
            "export controls",
            "sanctions",
            "the trade deficit",
            "shipping routes",
            "supply chains",
            "customs checks",
            "the free trade agreement",
            "import quotas",
        ],
        "metrics": [
            ("exports", "percent", -25.0, 30.0),
            ("the trade deficit", "billion", 0.4, 18.0),
            ("imports of machinery", "percent", -30.0, 25.0),
            ("tariffs on steel", "percent", 5.0, 45.0),
        ],
        "events": [
            "imposed new sanctions",
            "lifted export controls",
            "announced retaliatory tariffs",
            "signed a trade agreement",
            "suspended customs talks",
            "widened an import ban",
        ],
        "headlines": [
            "New Sanctions Will Push {c} Toward {c2}",
            "{c} and {c2} Sign Trade Pact After {n} Years of Talks",
            "Tariffs of {p} Percent Hit {c} Steel Exporters",
            "Exporters in {c} Brace for Customs Delays",
            "{c} Widens Import Ban as Dispute With {c2} Deepens",
        ],
        "headings": [
            "A shift in alliances",
            "Exporters count the cost",
            "The view from {c2}",
            "Legal challenges",
            "What the agreement covers",
            "Winners and losers",
        ],
    },
    "energy": {
        "orgs": ["{c} Energy Regulator", "{c} Ministry of Energy", "{co}", "{c} Grid Operator"],
        "roles": [
            "energy minister",
            "chief executive of {co}",
            "head of {o}",
            "analyst at {co}",
            "spokesperson for {o}",
            "director of the Lowland Energy Institute",
        ],
        "terms": [
            "electricity prices",
            "gas supplies",
            "the power grid",
            "solar capacity",
            "wind farms",
            "fuel subsidies",
            "the pipeline",
            "battery storage",
            "coal plants",
            "hydroelectric output",
        ],
        "metrics": [
            ("electricity prices", "percent", -20.0, 60.0),
            ("solar capacity", "gigawatts", 0.5, 14.0),
            ("gas imports", "percent", -35.0, 25.0),
            ("household energy bills", "percent", -10.0, 45.0),
        ],
        "events": [
            "approved a new pipeline",
            "capped household energy bills",
            "opened a solar plant",
            "warned of winter blackouts",
            "cut fuel subsidies",
            "auctioned offshore wind licences",
        ],
        "headlines": [
            "{co} Delays Opening of {city} Solar Factory",
            "{c} Caps Energy Bills as Prices Jump {p} Percent",
            "Blackout Warnings Grow in {c} Ahead of Winter",
            "{c} Approves {m} {cur} Pipeline Deal With {c2}",
            "Wind Auction in {c} Draws Record Bids",
        ],
        "headings": [
            "A strained grid",
            "Who pays",
            "The climate targets",
            "Industry pushes back",
            "Supply risks",
            "Investors wait",
        ],
    },
    "labour": {
        "orgs": [
            "{c} Dock and Harbour Workers' Union",
            "{c} Federation of Trade Unions",
            "{co}",
            "{c} Ministry of Labour",
            "{city} Port Authority",
        ],
        "roles": [
            "general secretary of {o}",
            "union shop steward",
            "labour minister",
            "chief executive of {co}",
            "spokesperson for {o}",
            "mediator appointed by the government",
        ],
        "terms": [
            "wages",
            "the strike",
            "automation",
            "working hours",
            "pensions",
            "overtime pay",
            "collective bargaining",
            "job security",
            "the minimum wage",
            "the picket lines",
        ],
        "metrics": [
            ("wages", "percent", 2.0, 14.0),
            ("workers on strike", "count", 400, 45000),
            ("ships waiting to dock", "count", 5, 60),
            ("the minimum wage", "percent", 3.0, 12.0),
        ],
        "events": [
            "walked off the job",
            "reached a tentative deal",
            "rejected the latest pay offer",
            "called a general strike",
            "returned to work",
            "agreed to binding arbitration",
        ],
        "headlines": [
            "Dockworkers Walk Out at {city} Over Pay and Automation",
            "Strike at {city} Ends After {n} Days",
            "Unions in {c} Reject {p} Percent Pay Offer",
            "{co} Workers Vote to Strike",
            "Minimum Wage in {c} to Rise {p} Percent",
        ],
        "headings": [
            "Automation at the heart of the dispute",
            "Businesses count the cost",
            "The union's demands",
            "Talks resume",
            "A history of disputes",
            "What the deal includes",
        ],
    },
    "climate and water": {
        "orgs": ["{c} Water Authority", "{c} Meteorological Service", "{c} Ministry of Environment", "{co}"],
        "roles": [
            "environment minister",
            "hydrologist at {o}",
            "head of {o}",
            "farmer near {city}",
            "climate scientist at the University of {city}",
            "mayor of {city}",
        ],
        "terms": [
            "the drought",
            "reservoir levels",
            "rainfall",
            "water rationing",
            "the heatwave",
            "flood defences",
            "crop losses",
            "groundwater",
            "the river basin",
            "wildfires",
        ],
        "metrics": [
            ("reservoir levels", "percent", 12.0, 98.0),
            ("rainfall", "percent", -60.0, 40.0),
            ("crop losses", "percent", 3.0, 45.0),
            ("temperatures", "degrees", 31.0, 46.0),
        ],
        "events": [
            "declared a drought emergency",
            "began filling the reservoir",
            "imposed water rationing",
            "opened new flood defences",
            "evacuated villages",
            "released emergency funds",
        ],
        "headlines": [
            "{c} Fills {city} Reservoir Amid Dispute With {c2}",
            "Drought Cuts {c} Harvest by {p} Percent",
            "Heatwave Pushes Temperatures Past {t} Degrees in {city}",
            "Farmers in {city} Face Water Cuts",
            "Floods Force Thousands From Homes in {c}",
        ],
        "headings": [
            "A dry season",
            "Farmers suffer",
            "Downstream worries",
            "The science",
            "Government response",
            "Looking ahead",
        ],
    },
    "technology": {
        "orgs": ["{co}", "{c} Digital Agency", "{c} Data Protection Authority", "{c} Ministry of Science"],
        "roles": [
            "chief executive of {co}",
            "chief technology officer at {co}",
            "head of {o}",
            "digital minister",
            "researcher at the University of {city}",
            "analyst at Meridian Research",
        ],
        "terms": [
            "artificial intelligence",
            "chip production",
            "data protection",
            "the cloud market",
            "cybersecurity",
            "5G networks",
            "semiconductors",
            "online platforms",
            "software exports",
        ],
        "metrics": [
            ("chip output", "percent", -10.0, 55.0),
            ("software exports", "billion", 0.3, 25.0),
            ("data breaches", "count", 12, 900),
            ("research spending", "percent", 1.0, 30.0),
        ],
        "events": [
            "opened a chip factory",
            "fined an online platform",
            "passed an AI law",
            "reported a cyberattack",
            "announced a data centre",
            "launched a 5G network",
        ],
        "headlines": [
            "{co} to Build {m} {cur} Chip Plant in {city}",
            "{c} Passes Sweeping AI Law",
            "Cyberattack Disrupts Services at {co}",
            "Regulator Fines {co} {m} {cur} Over Data Breach",
            "Tech Exports From {c} Jump {p} Percent",
        ],
        "headings": [
            "The investment",
            "Privacy concerns",
            "Competition from {c2}",
            "Jobs and skills",
            "What regulators want",
            "The next phase",
        ],
    },
    "health": {
        "orgs": ["{c} Ministry of Health", "{c} Medicines Agency", "{city} General Hospital", "{co}"],
        "roles": [
            "health minister",
            "director of {o}",
            "epidemiologist at the University of {city}",
            "chief executive of {co}",
            "head of the nurses' union",
            "spokesperson for {o}",
        ],
        "terms": [
            "waiting lists",
            "hospital beds",
            "the vaccine",
            "drug prices",
            "nurse shortages",
            "the outbreak",
            "primary care",
            "the health budget",
            "emergency rooms",
        ],
        "metrics": [
            ("waiting lists", "percent", 5.0, 45.0),
            ("hospital admissions", "count", 150, 9000),
            ("the health budget", "billion", 0.8, 30.0),
            ("vaccination rates", "percent", 40.0, 96.0),
        ],
        "events": [
            "approved a new vaccine",
            "declared an outbreak over",
            "raised the health budget",
            "opened a new hospital wing",
            "capped drug prices",
            "recruited foreign nurses",
        ],
        "headlines": [
            "Waiting Lists in {c} Grow {p} Percent",
            "{c} Approves {co} Vaccine",
            "Nurse Shortage Hits {city} Hospitals",
            "{c} Raises Health Budget to {m} {cur}",
            "Outbreak in {city} Declared Over After {n} Weeks",
        ],
        "headings": [
            "Pressure on hospitals",
            "The patients' view",
            "Funding",
            "What doctors say",
            "A long recovery",
            "Next steps",
        ],
    },
    "elections": {
        "orgs": [
            "{c} Electoral Commission",
            "the People's Alliance",
            "the Reform Party",
            "the Green Union",
            "the {c} parliament",
        ],
        "roles": [
            "prime minister",
            "opposition leader",
            "leader of {o}",
            "political scientist at the University of {city}",
            "chair of {o}",
            "campaign manager",
        ],
        "terms": [
            "the election",
            "turnout",
            "the coalition",
            "the campaign",
            "opinion polls",
            "the ballot",
            "the budget vote",
            "the constitution",
            "the referendum",
        ],
        "metrics": [
            ("turnout", "percent", 38.0, 82.0),
            ("support for the governing party", "percent", 18.0, 46.0),
            ("seats in parliament", "count", 12, 160),
            ("postal votes", "count", 20000, 900000),
        ],
        "events": [
            "called an early election",
            "formed a coalition",
            "won the run-off",
            "conceded defeat",
            "lost a confidence vote",
            "announced a referendum",
        ],
        "headlines": [
            "{c} Votes in Tight Election as Turnout Hits {p} Percent",
            "Coalition Talks in {c} Collapse After {n} Weeks",
            "Opposition Wins {city} Mayoral Race",
            "{c} Prime Minister Survives Confidence Vote",
            "Referendum on Constitution Set for {y}",
        ],
        "headings": [
            "The results",
            "Coalition arithmetic",
            "The campaign",
            "What voters said",
            "Reaction abroad",
            "What happens next",
        ],
    },
    "transport": {
        "orgs": ["{city} Port Authority", "{co}", "{c} Ministry of Transport", "{c} Rail Regulator"],
        "roles": [
            "transport minister",
            "chief executive of {co}",
            "head of {o}",
            "logistics analyst at {co}",
            "mayor of {city}",
            "spokesperson for {o}",
        ],
        "terms": [
            "freight volumes",
            "the rail line",
            "container traffic",
            "airport expansion",
            "fuel costs",
            "the toll road",
            "port congestion",
            "delivery times",
            "ticket prices",
        ],
        "metrics": [
            ("container traffic", "percent", -30.0, 25.0),
            ("rail passengers", "count", 20000, 2000000),
            ("ticket prices", "percent", 2.0, 28.0),
            ("freight volumes", "percent", -22.0, 18.0),
        ],
        "events": [
            "opened a new rail line",
            "expanded the airport",
            "raised ticket prices",
            "closed the harbour",
            "ordered new trains",
            "reopened the bridge",
        ],
        "headlines": [
            "{city} Rail Line Opens {n} Months Late",
            "Port Congestion in {city} Delays {n} Ships",
            "{co} Orders {n} Trains in {m} {cur} Deal",
            "Ticket Prices in {c} to Rise {p} Percent",
            "Airport Expansion at {city} Approved",
        ],
        "headings": [
            "Delays and costs",
            "Commuters react",
            "The business case",
            "Environmental objections",
            "Financing",
            "The timetable",
        ],
    },
    "housing": {
        "orgs": ["{c} Association of Realtors", "{c} Ministry of Housing", "{co}", "{city} City Council"],
        "roles": [
            "housing minister",
            "president of {o}",
            "chief economist at {co}",
            "mayor of {city}",
            "tenants' advocate",
            "property developer",
        ],
        "terms": [
            "home sales",
            "rents",
            "house prices",
            "mortgage approvals",
            "social housing",
            "building permits",
            "construction costs",
            "first-time buyers",
        ],
        "metrics": [
            ("home sales", "percent", -35.0, 20.0),
            ("average house prices", "percent", -12.0, 18.0),
            ("rents", "percent", 1.0, 22.0),
            ("building permits", "count", 800, 60000),
        ],
        "events": [
            "froze rents",
            "announced a housing programme",
            "cut stamp duty",
            "tightened lending rules",
            "approved a new district",
            "published house price data",
        ],
        "headlines": [
            "Home Sales Slump in {c} After Rate Rise",
            "Rents in {city} Jump {p} Percent",
            "{c} Unveils {m} {cur} Housing Plan",
            "House Prices in {c} Fall for {n} Straight Months",
            "{city} Council Approves {n} New Homes",
        ],
        "headings": [
            "Buyers step back",
            "Renters squeezed",
            "The builders",
            "Policy response",
            "Regional picture",
            "Outlook",
        ],
    },
    "agriculture": {
        "orgs": ["Orrin Agricultural Cooperative", "{c} Ministry of Agriculture", "{c} Farmers' Union", "{co}"],
        "roles": [
            "agriculture minister",
            "chair of {o}",
            "farmer near {city}",
            "grain trader at {co}",
            "agronomist at the University of {city}",
            "spokesperson for {o}",
        ],
        "terms": [
            "the harvest",
            "grain exports",
            "fertiliser prices",
            "irrigation",
            "livestock",
            "farm subsidies",
            "food prices",
            "the wheat crop",
            "rice yields",
        ],
        "metrics": [
            ("the wheat harvest", "percent", -40.0, 20.0),
            ("fertiliser prices", "percent", -15.0, 80.0),
            ("grain exports", "million tonnes", 0.5, 22.0),
            ("food prices", "percent", 1.0, 25.0),
        ],
        "events": [
            "banned grain exports",
            "raised farm subsidies",
            "blocked roads with tractors",
            "signed a grain deal",
            "reported a record harvest",
            "declared a farm emergency",
        ],
        "headlines": [
            "Farmers in {c} Protest as Fertiliser Prices Soar {p} Percent",
            "{c} Bans Grain Exports",
            "Record Harvest Lifts {c} Economy",
            "Orrin Delta Farmers Face Ruin After {n} Dry Months",
            "{c} and {c2} Agree Grain Corridor",
        ],
        "headings": [
            "In the fields",
            "Prices at the market",
            "Government support",
            "Exports",
            "The weather",
            "What farmers want",
        ],
    },
    "diplomacy and security": {
        "orgs": [
            "{c} Foreign Ministry",
            "{c} Defence Ministry",
            "the Continental Security Council",
            "the Regional Cooperation Forum",
        ],
        "roles": [
            "foreign minister",
            "defence minister",
            "ambassador of {c2}",
            "spokesperson for {o}",
            "security analyst at the Atlas Institute",
            "secretary-general of {o}",
        ],
        "terms": [
            "the border",
            "peace talks",
            "the ceasefire",
            "military spending",
            "the treaty",
            "the summit",
            "refugees",
            "arms exports",
            "the naval exercise",
        ],
        "metrics": [
            ("military spending", "percent", 1.0, 35.0),
            ("refugees", "count", 1500, 400000),
            ("troops", "count", 200, 40000),
            ("aid", "million", 5.0, 900.0),
        ],
        "events": [
            "recalled its ambassador",
            "signed a ceasefire",
            "hosted a summit",
            "expelled diplomats",
            "raised military spending",
            "reopened the border crossing",
        ],
        "headlines": [
            "Talks Between {c} and {c2} Collapse",
            "{c} Recalls Ambassador From {c2}",
            "Summit in {city} Ends Without Deal",
            "{c} Raises Defence Budget {p} Percent",
            "Ceasefire Holds on {c}-{c2} Border",
        ],
        "headings": [
            "What was agreed",
            "Regional reaction",
            "The sticking points",
            "Inside the talks",
            "Background to the dispute",
            "What comes next",
        ],
    },
}
TOPIC_NAMES = sorted(TOPICS)

VERBS_UP = ["rose", "climbed", "jumped", "increased", "edged up", "surged"]
VERBS_DOWN = ["fell", "dropped", "declined", "slipped", "slumped", "eased"]
TIME_REFS = [
    "on Monday",
    "on Tuesday",
    "on Wednesday",
    "on Thursday",
    "on Friday",
    "on Saturday",
    "on Sunday",
    "last week",
    "this week",
    "earlier this month",
    "late on Thursday",
    "overnight",
]
SOURCES_OF_DATA = [
    "according to official figures",
    "data showed",
    "according to the statistics office",
    "preliminary figures showed",
    "according to a survey of economists",
    "according to estimates by Meridian Research",
    "the ministry said",
]
CONNECTORS = [
    "However,",
    "Meanwhile,",
    "At the same time,",
    "Still,",
    "In a statement,",
    "By contrast,",
    "Separately,",
    "Earlier,",
    "Critics say",
    "Supporters argue that",
    "Officials said",
    "",
]
ADJ = [
    "sharp",
    "modest",
    "unexpected",
    "steady",
    "record",
    "gradual",
    "significant",
    "temporary",
    "lasting",
    "painful",
    "welcome",
    "limited",
    "broad",
    "narrow",
    "historic",
]
GROUPS = [
    "households",
    "small businesses",
    "exporters",
    "pensioners",
    "young people",
    "farmers",
    "investors",
    "commuters",
    "workers",
    "local councils",
    "manufacturers",
    "tenants",
]
MODALS = ["will", "cannot", "must", "should", "will not", "intend to", "are ready to", "need to"]
Q_VERBS = ["ignore", "accept", "fix", "afford", "support", "delay", "protect", "review", "solve", "reverse"]
Q_OPENERS = ["Frankly,", "Let me be clear:", "In the end,", "For now,", "Right now,", "Honestly,", "", "", ""]
Q_CLOSERS = [
    "and everyone knows it",
    "whatever the critics say",
    "for the sake of {g}",
    "before the end of {y}",
    "as quickly as we can",
    "without help from {c2}",
    "this year",
]
EFFECTS = ["could affect", "is likely to hit", "was welcomed by", "angered", "surprised"]
CAUSES = ["weak demand", "strong demand", "political uncertainty", "the exchange rate", "rising costs", "the weather"]
PROCESSES = ["negotiations", "debate", "protests", "uncertainty", "consultations"]
FEELINGS = [
    "had already risen",
    "was hard to predict",
    "had cost them dearly",
    "remained their main worry",
    "was finally improving",
]
AMOUNTS = ["a loss of", "savings of", "investment of", "costs of"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
DAYS_IN = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


# ----- article model ------------------------------------------------------------------------------


@dataclass
class GenArticle:
    title: str
    author: str
    source: str
    domain: str
    date: str  # ISO
    url: str
    topic: str
    sections: list[tuple[str, list[str]]] = field(default_factory=list)  # (heading, paragraphs)
    words: int = 0

    def estimated_chunks(self) -> int:
        total = 0
        for _, paragraphs in self.sections:
            words = sum(p.count(" ") + 1 for p in paragraphs)
            total += max(1, round((words + _SECTION_EXTRA) / _WORDS_PER_CHUNK))
        return total


class _Context:
    """The cast and setting of one article: everything a sentence template may mention."""

    __slots__ = (
        "r",
        "topic",
        "t",
        "country",
        "country2",
        "cities",
        "city",
        "currency",
        "company",
        "orgs",
        "people",
        "year",
        "month",
    )

    def __init__(self, r: random.Random, topic: str, year: int, month: int) -> None:
        self.r = r
        self.topic = topic
        self.t = TOPICS[topic]
        (self.country, self.cities, self.currency), other = r.sample(COUNTRIES, 2)
        self.country2 = other[0]
        self.city = r.choice(self.cities)
        self.company = r.choice(COMPANIES)
        self.year, self.month = year, month
        self.orgs = [_with_article(self.fill(o)) for o in r.sample(self.t["orgs"], min(3, len(self.t["orgs"])))]
        self.people = []
        for _ in range(r.randint(3, 5)):
            name = f"{r.choice(FIRST)} {r.choice(LAST)}"
            role = r.choice(self.t["roles"]).replace("{o}", r.choice(self.orgs))
            self.people.append((name, self.fill(role)))

    def fill(self, template: str) -> str:
        if "{" not in template:
            return template
        r = self.r
        return (
            template.replace("{c2}", self.country2)
            .replace("{c}", self.country)
            .replace("{city}", self.city)
            .replace("{co}", self.company)
            .replace("{cur}", self.currency)
            .replace("{o}", self.orgs[0] if hasattr(self, "orgs") and self.orgs else self.company)
            .replace("{p}", _pct(r))
            .replace("{n}", str(r.randint(2, 40)))
            .replace("{m}", f"{r.randint(1, 95) / 10:.1f} billion")
            .replace("{t}", str(r.randint(38, 47)))
            .replace("{y0}", str(self.year - r.randint(3, 15)))
            .replace("{y}", str(self.year + r.randint(0, 2)))
            .replace("{g}", r.choice(GROUPS))
        )


def _with_article(org: str) -> str:
    """'Veridia Ministry of Trade' -> 'the Veridia Ministry of Trade'; companies stay bare."""
    if org.startswith("the ") or org in COMPANIES or org.startswith("Orrin Agricultural"):
        return org
    return "the " + org


def _a(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _pct(r: random.Random) -> str:
    return f"{r.randint(1, 140) / 10:.1f}".replace(".0", "") if r.random() < 0.5 else str(r.randint(2, 45))


def _number(r: random.Random, lo: float, hi: float, unit: str, currency: str) -> str:
    if unit == "count":
        return f"{int(r.uniform(lo, hi)):,}"
    if unit in ("billion", "million"):
        return f"{r.uniform(lo, hi):.1f} {unit} {currency}"
    value = r.uniform(lo, hi)
    return f"{abs(value):.1f} {unit}" if unit != "percent" else f"{abs(value):.1f} percent"


# ----- sentence templates ---------------------------------------------------------------------------


def _s_metric(x: _Context) -> str:
    r = x.r
    name, unit, lo, hi = r.choice(x.t["metrics"])
    up = r.random() < 0.55
    verb = r.choice(VERBS_UP if up else VERBS_DOWN)
    value = _number(r, lo, hi, unit, x.currency)
    month = MONTHS[(x.month - 2) % 12]
    if unit == "count":
        return f"The number of {name} {verb} to {value} in {month}, {r.choice(SOURCES_OF_DATA)}."
    if unit == "percent":
        return (
            f"{name[0].upper() + name[1:]} in {x.country} {verb} {value} in the year to {month}, "
            f"{r.choice(SOURCES_OF_DATA)}, {'well above' if up else 'below'} the {r.randint(1, 9)} percent "
            f"that analysts had expected."
        )
    return f"{name[0].upper() + name[1:]} {verb} to {value} last year, {r.choice(SOURCES_OF_DATA)}."


def _s_event(x: _Context) -> str:
    r = x.r
    org = r.choice(x.orgs)
    org = org[0].upper() + org[1:]
    return (
        f"{org} {r.choice(x.t['events'])} {r.choice(TIME_REFS)}, "
        f"{_a(r.choice(ADJ))} step that {r.choice(EFFECTS)} "
        f"{r.choice(GROUPS)} across {x.country}."
    )


def _s_background(x: _Context) -> str:
    r = x.r
    term = r.choice(x.t["terms"])
    return (
        f"{term[0].upper() + term[1:]} has been {_a(r.choice(ADJ))} concern in {x.country} since "
        f"{x.year - r.randint(1, 12)}, when {r.choice(x.orgs)} {r.choice(x.t['events'])} "
        f"and {r.choice(x.t['terms'])} became a political issue."
    )


def _s_analysis(x: _Context) -> str:
    r = x.r
    name, role = r.choice(x.people)
    who = f"{name}, {role}, expects" if r.random() < 0.35 else "analysts expect"
    return _cap(
        (
            f"{r.choice(CONNECTORS)} {who} "
            f"{r.choice(x.t['terms'])} to {r.choice(['stabilise', 'worsen', 'improve', 'remain volatile', 'recover'])} "
            f"by {r.choice(MONTHS)} {x.year + r.randint(0, 2)}, citing {r.choice(x.t['terms'])} and "
            f"{r.choice(CAUSES)}."
        ).strip()
    )


def _s_detail(x: _Context) -> str:
    r = x.r
    day = r.randint(1, DAYS_IN[x.month - 1])
    return (
        f"The decision, announced on {day} {MONTHS[x.month - 1]} in {x.city}, followed "
        f"{r.choice(['weeks', 'months', 'two days', 'a year'])} of {r.choice(PROCESSES)} "
        f"over {r.choice(x.t['terms'])}, and {r.randint(2, 9)} of the {r.randint(9, 15)} members backed it."
    )


def _s_reaction(x: _Context) -> str:
    r = x.r
    return (
        f"{r.choice(GROUPS).capitalize()} in {r.choice(x.cities)} said {r.choice(x.t['terms'])} "
        f"{r.choice(FEELINGS)}, "
        f"while {x.company} {r.choice(['reported', 'forecast', 'warned of', 'announced'])} "
        f"{r.choice(AMOUNTS)} {r.randint(2, 900)} million {x.currency}."
    )


def _quote_text(x: _Context) -> str:
    r = x.r
    parts = []
    for _ in range(r.randint(1, 2)):
        opener = r.choice(Q_OPENERS)
        closer = x.fill(r.choice(Q_CLOSERS))
        kind = r.random()
        if kind < 0.4:
            s = f"We {r.choice(MODALS)} {r.choice(Q_VERBS)} {r.choice(x.t['terms'])} {closer}."
        elif kind < 0.7:
            s = (
                f"This is {_a(r.choice(ADJ))} moment for {r.choice(GROUPS)}, and {r.choice(x.t['terms'])} "
                f"will decide what happens {closer}."
            )
        else:
            s = f"Nobody in {x.country} can {r.choice(Q_VERBS)} {r.choice(x.t['terms'])} on their own."
        parts.append(f"{opener} {s[0].lower()}{s[1:]}" if opener else s)
    return " ".join(parts)


def _s_quote(x: _Context) -> str:
    r = x.r
    name, role = r.choice(x.people)
    q = _quote_text(x)
    form = r.random()
    if form < 0.45:
        return f'"{q[:-1]}," said {name}, {role}.'
    if form < 0.75:
        return f'{name}, {role}, said: "{q}"'
    return f'"{q[:-1]}," {name.split()[-1]} told reporters in {x.city}. "{_quote_text(x)}"'


_BODY_SENTENCES = [_s_metric, _s_event, _s_background, _s_analysis, _s_detail, _s_reaction]


def _lead(x: _Context) -> str:
    r = x.r
    org = r.choice(x.orgs)
    org = org[0].upper() + org[1:]
    name, unit, lo, hi = r.choice(x.t["metrics"])
    return (
        f"{x.city.upper()} - {org} {r.choice(x.t['events'])} {r.choice(TIME_REFS)}, as "
        f"{name} {r.choice(VERBS_UP + VERBS_DOWN)} to {_number(r, lo, hi, unit, x.currency)} and "
        f"{r.choice(x.t['terms'])} weighed on {r.choice(GROUPS)}."
    )


def make_article(r: random.Random, number: int) -> GenArticle:
    topic = r.choice(TOPIC_NAMES)
    year = r.randint(2020, 2025)
    month = r.randint(1, 12)
    day = r.randint(1, DAYS_IN[month - 1])
    x = _Context(r, topic, year, month)
    source, domain = r.choice(OUTLETS)
    title = _cap(x.fill(r.choice(x.t["headlines"])))
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] + f"-{number:06d}"
    date = f"{year}-{month:02d}-{day:02d}"
    art = GenArticle(
        title=title,
        author=f"{r.choice(FIRST)} {r.choice(LAST)}",
        source=source,
        domain=domain,
        date=date,
        url=f"https://www.{domain}/{topic.split()[0]}/{year}/{month:02d}/{day:02d}/{slug}",
        topic=topic,
    )
    # Skewed toward shorter pieces, as real feeds are: 300-1500 words, median ~700.
    target = int(300 + 1200 * r.random() ** 1.6)
    headings = r.sample(x.t["headings"], len(x.t["headings"]))
    words = 0
    heading = ""
    paragraphs: list[str] = [" ".join([_lead(x), _s_event(x)])]
    words += paragraphs[0].count(" ") + 1
    per_section = r.randint(3, 5)
    body = _BODY_SENTENCES
    while words < target:
        if len(paragraphs) >= per_section and headings:
            art.sections.append((heading, paragraphs))
            heading, paragraphs = x.fill(headings.pop()), []
            per_section = r.randint(2, 5)
        if r.random() < 0.3:
            para = _s_quote(x)
            if r.random() < 0.5:
                para += " " + r.choice(body)(x)
        else:
            para = " ".join(r.choice(body)(x) for _ in range(r.randint(2, 4)))
        paragraphs.append(para)
        words += para.count(" ") + 1
    art.sections.append((heading, paragraphs))
    art.words = words
    return art


# ----- rendering ------------------------------------------------------------------------------------


def _yaml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


def render_markdown(a: GenArticle, r: random.Random) -> str:
    out = [
        "---",
        f"title: {_yaml_str(a.title)}",
        f"author: {_yaml_str(a.author)}",
        f"source: {_yaml_str(a.source)}",
        f"date: {a.date}",
        f"url: {_yaml_str(a.url)}",
        f"topic: {_yaml_str(a.topic)}",
        "---",
        "",
    ]
    if r.random() < 0.6:
        out += [f"# {a.title}", ""]
    for heading, paragraphs in a.sections:
        if heading:
            out += [f"## {heading}", ""]
        for p in paragraphs:
            out += [p, ""]
    return "\n".join(out)


def _human_date(iso: str, r: random.Random) -> str:
    y, m, d = iso.split("-")
    style = r.random()
    if style < 0.4:
        return iso
    if style < 0.7:
        return f"{MONTHS[int(m) - 1]} {int(d)}, {y}"
    return f"{int(d)} {MONTHS[int(m) - 1]} {y}"


def render_text(a: GenArticle, r: random.Random) -> str:
    out = [a.title, f"By {a.author}", f"Source: {a.source}", _human_date(a.date, r), ""]
    for heading, paragraphs in a.sections:
        if heading:
            out += [heading, ""]
        for p in paragraphs:
            out += [p, ""]
    out += [f"Read more: {a.url}", ""]
    return "\n".join(out)


_NAV = ("Home", "World", "Business", "Politics", "Climate", "Technology", "Opinion")


def render_html(a: GenArticle, r: random.Random) -> str:
    e = html.escape
    body = []
    for heading, paragraphs in a.sections:
        if heading:
            body.append(f"    <h2>{e(heading)}</h2>")
        body += [f"    <p>{e(p)}</p>" for p in paragraphs]
    nav = "\n".join(f'      <a href="/{n.lower()}/">{n}</a>' for n in _NAV)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{e(a.title)} | {e(a.source)}</title>
  <meta property="og:title" content="{e(a.title)}">
  <meta property="og:site_name" content="{e(a.source)}">
  <meta name="author" content="{e(a.author)}">
  <meta property="article:published_time" content="{a.date}T{r.randint(5, 22):02d}:{r.randint(0, 59):02d}:00Z">
  <link rel="canonical" href="{e(a.url)}">
  <script>var analytics = {{ page: "article", id: {r.randint(1000, 99999)} }};</script>
</head>
<body>
  <header><div class="masthead"><a href="/">{e(a.source)}</a></div>
    <nav aria-label="Main menu">
{nav}
    </nav>
  </header>
  <div class="cookie-banner">This site uses cookies. By continuing to browse you accept our cookie policy.</div>
  <main>
  <article>
    <h1>{e(a.title)}</h1>
    <p class="byline">By {e(a.author)}</p>
    <time datetime="{a.date}">{_human_date(a.date, r)}</time>
{chr(10).join(body)}
  </article>
  <aside class="related"><h3>Related stories</h3><ul><li><a href="/x">More from {e(a.source)}</a></li></ul></aside>
  </main>
  <footer><p>Copyright {a.date[:4]} {e(a.source)}. All rights reserved.</p></footer>
</body>
</html>
"""


def render_json_record(a: GenArticle, r: random.Random) -> str:
    parts = []
    for heading, paragraphs in a.sections:
        if heading:
            parts.append(f"## {heading}")
        parts += paragraphs
    record = {
        "title": a.title,
        "author": a.author,
        "source": a.source,
        "published_at": f"{a.date}T{r.randint(5, 22):02d}:00:00Z",
        "url": a.url,
        "body": "\n\n".join(parts),
    }
    return json.dumps(record, ensure_ascii=False)


# ----- corpus ---------------------------------------------------------------------------------------


@dataclass
class CorpusInfo:
    out: str
    seed: int
    target_chunks: int
    estimated_chunks: int
    articles: int
    files: int
    words: int
    formats: dict[str, int]
    seconds: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def iter_articles(seed: int, target_chunks: int) -> Iterator[GenArticle]:
    """Articles until their estimated brief chunk count reaches `target_chunks`."""
    r = random.Random(seed)
    estimated = 0
    number = 0
    while estimated < target_chunks:
        article = make_article(r, number)
        estimated += article.estimated_chunks()
        number += 1
        yield article


def make_corpus(out: Path, target_chunks: int, seed: int = 7, jsonl_bundle: int = 25) -> CorpusInfo:
    """Write the corpus under `out` (created; existing files with the same names are replaced)."""
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    fmt_rng = random.Random(seed * 7919 + 1)
    formats = {"md": 0, "txt": 0, "html": 0, "jsonl": 0}
    files = articles = words = estimated = 0
    bundle: list[str] = []
    bundles = 0
    made_dirs: set[Path] = set()

    def flush_bundle() -> None:
        nonlocal bundles, files
        if bundle:
            path = out / "feeds" / f"feed-{bundles:05d}.jsonl"
            if path.parent not in made_dirs:
                path.parent.mkdir(parents=True, exist_ok=True)
                made_dirs.add(path.parent)
            path.write_text("\n".join(bundle) + "\n", encoding="utf-8")
            bundle.clear()
            bundles += 1
            files += 1

    for number, article in enumerate(iter_articles(seed, target_chunks)):
        articles += 1
        words += article.words
        estimated += article.estimated_chunks()
        pick = fmt_rng.random()
        kind = "md" if pick < 0.70 else "txt" if pick < 0.82 else "html" if pick < 0.92 else "jsonl"
        formats[kind] += 1
        if kind == "jsonl":
            bundle.append(render_json_record(article, fmt_rng))
            if len(bundle) >= jsonl_bundle:
                flush_bundle()
            continue
        outlet = article.domain.split(".")[0]
        folder = out / outlet / article.date[:4]
        if folder not in made_dirs:
            folder.mkdir(parents=True, exist_ok=True)
            made_dirs.add(folder)
        name = f"{article.date}_{article.url.rsplit('/', 1)[-1]}"
        render = {"md": render_markdown, "txt": render_text, "html": render_html}[kind]
        (folder / f"{name}.{kind}").write_text(render(article, fmt_rng), encoding="utf-8")
        files += 1
        del number
    flush_bundle()
    info = CorpusInfo(
        str(out),
        seed,
        target_chunks,
        estimated,
        articles,
        files,
        words,
        formats,
        round(time.perf_counter() - started, 3),
    )
    (out / ".manifest.json").write_text(json.dumps(info.to_dict(), indent=2), encoding="utf-8")
    return info


def questions(n: int, seed: int = 11) -> list[str]:
    """Questions in the corpus's vocabulary (names, places, terms that the articles use)."""
    r = random.Random(seed)
    out = []
    forms = [
        "What did the {role} say about {term}?",
        "How much did {metric} change in {c}?",
        "Why did {org} decide that it {event}?",
        "When did {org} say it {event}?",
        "What is the outlook for {term} in {c}?",
        "How are {group} in {city} affected by {term}?",
        "Who criticised the decision on {term} by {org}?",
        "What happened to {metric} after {org} {event}?",
    ]
    for _ in range(n):
        x = _Context(r, r.choice(TOPIC_NAMES), r.randint(2020, 2025), r.randint(1, 12))
        form = r.choice(forms)
        role = r.choice(x.people)[1]
        q = (
            form.replace("{role}", role)
            .replace("{term}", r.choice(x.t["terms"]))
            .replace("{metric}", r.choice(x.t["metrics"])[0])
            .replace("{org}", r.choice(x.orgs))
            .replace("{event}", r.choice(x.t["events"]))
            .replace("{group}", r.choice(GROUPS))
        )
        out.append(x.fill(q))
    return out


def check(out: Path, info: CorpusInfo) -> dict:
    """Run brief's own loaders and chunker over the corpus; compare with the estimate."""
    from brief.ingest.chunking import ChunkingOptions, chunk_article
    from brief.ingest.loaders import find_files, load_file
    from brief.ingestion import document_id
    from brief.settings import Settings

    s = Settings()
    options = ChunkingOptions(s.chunk_target_tokens, s.chunk_max_tokens, s.chunk_overlap_sentences)
    started = time.perf_counter()
    chunks = articles = errors = 0
    for path in find_files([out]):
        loaded = load_file(path)
        errors += len(loaded.errors)
        for article in loaded.articles:
            articles += 1
            chunks += len(chunk_article(article, document_id(article), options))
    return {
        "articles": articles,
        "chunks": chunks,
        "estimated": info.estimated_chunks,
        "ratio": round(chunks / max(1, info.estimated_chunks), 3),
        "errors": errors,
        "seconds": round(time.perf_counter() - started, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=1000, help="target number of brief chunks (1000|10000|100000)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--check", action="store_true", help="chunk the result with brief and compare")
    args = parser.parse_args(argv)
    info = make_corpus(args.out, args.chunks, args.seed)
    print(json.dumps(info.to_dict()))
    if args.check:
        print(json.dumps(check(args.out, info)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
