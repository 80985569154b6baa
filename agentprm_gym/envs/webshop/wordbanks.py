"""Word banks the synthetic WebShop catalog is generated from.

Constant data only (no randomness here): product types of WebShop's five
categories, each with its search query, Amazon-style breadcrumb, attribute pool,
customization options and price range; plus brands, modifiers and the
sentence templates of descriptions, bullet points and reviews.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "ProductType",
    "PRODUCT_TYPES",
    "CATEGORIES",
    "BRANDS",
    "OPTION_VALUES",
    "CATEGORY_MODIFIERS",
    "DESCRIPTION_TEMPLATES",
    "BULLET_TEMPLATES",
    "REVIEW_TITLES",
    "REVIEW_BODIES",
    "MATERIALS",
]

#: WebShop's five product categories.
CATEGORIES: tuple[str, ...] = ("beauty", "electronics", "fashion", "food", "furniture")

#: Value pools of the customization options.
OPTION_VALUES: dict[str, tuple[str, ...]] = {
    "color": (
        "black",
        "white",
        "red",
        "navy blue",
        "light blue",
        "green",
        "dark grey",
        "pink",
        "beige",
        "brown",
        "purple",
        "yellow",
        "burgundy",
        "ivory",
        "teal",
        "khaki",
        "rose gold",
        "olive",
    ),
    "size": ("x-small", "small", "medium", "large", "x-large", "xx-large", "3x-large"),
    "shoe size": ("6", "6.5", "7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "12"),
    "volume": ("1 fl oz", "2 fl oz", "4 fl oz", "8 fl oz", "12 fl oz", "16 fl oz", "33.8 fl oz"),
    "count": ("1 count", "2 count", "pack of 3", "pack of 4", "pack of 6", "pack of 12"),
    "weight": ("4 ounce", "8 ounce", "12 ounce", "1 pound", "2 pound", "5 pound"),
    "flavor": (
        "original",
        "vanilla",
        "chocolate",
        "strawberry",
        "sea salt",
        "honey",
        "cinnamon",
        "peppermint",
        "lemon",
        "peanut butter",
        "caramel",
        "mixed berry",
    ),
    "scent": (
        "lavender",
        "unscented",
        "citrus",
        "coconut",
        "rose",
        "eucalyptus",
        "vanilla bean",
        "fresh linen",
        "sandalwood",
        "cucumber melon",
    ),
    "capacity": ("32gb", "64gb", "128gb", "256gb", "512gb", "1tb", "2tb"),
    "style": ("standard", "pro", "deluxe", "mini", "plus", "classic", "modern"),
    "dimension": ("24 inch", "30 inch", "36 inch", "42 inch", "48 inch", "60 inch"),
    "pattern": ("solid", "striped", "plaid", "floral", "polka dot", "camouflage"),
}


class ProductType(NamedTuple):
    """One kind of product: the vocabulary its products are drawn from.

    Attributes:
        category: One of :data:`CATEGORIES`.
        query: The search query the product was "scraped" with (WebShop's ``query``).
        nouns: Title nouns of this type (the first is the plain name).
        breadcrumb: Amazon-style ``product_category`` path, levels joined by " › ".
        attributes: Attribute pool (lower-case phrases such as "sulfate free").
        uses: Phrases completing "for ..." in titles and descriptions.
        options: Option names this type offers (keys of :data:`OPTION_VALUES`).
        price: (low, high) price range in dollars.
    """

    category: str
    query: str
    nouns: tuple[str, ...]
    breadcrumb: str
    attributes: tuple[str, ...]
    uses: tuple[str, ...]
    options: tuple[str, ...]
    price: tuple[float, float]


def _t(category, query, nouns, breadcrumb, attributes, uses, options, price) -> ProductType:
    return ProductType(
        category,
        query,
        tuple(nouns.split("|")),
        breadcrumb,
        tuple(attributes.split("|")),
        tuple(uses.split("|")),
        tuple(options.split("|")) if options else (),
        price,
    )


#: All product types, grouped by category.
PRODUCT_TYPES: tuple[ProductType, ...] = (
    # ------------------------------------------------------------------ beauty
    _t(
        "beauty",
        "shampoo",
        "shampoo|hair shampoo|clarifying shampoo",
        "Beauty & Personal Care › Hair Care › Shampoo & Conditioner › Shampoos",
        "sulfate free|paraben free|natural ingredients|dry hair|hair growth|cruelty free|"
        "damaged hair|argan oil|color safe|long lasting",
        "dry hair|curly hair|all hair types|men|women|fine hair",
        "volume|scent",
        (6.0, 45.0),
    ),
    _t(
        "beauty",
        "face moisturizer",
        "face moisturizer|moisturizing cream|face cream",
        "Beauty & Personal Care › Skin Care › Face › Creams & Moisturizers",
        "hyaluronic acid|sensitive skin|fragrance free|anti aging|oil free|spf 30|"
        "dermatologist tested|vitamin c|non greasy|natural ingredients",
        "sensitive skin|dry skin|oily skin|daily use|night use",
        "volume",
        (9.0, 70.0),
    ),
    _t(
        "beauty",
        "lipstick",
        "lipstick|matte lipstick|lip color",
        "Beauty & Personal Care › Makeup › Lips › Lipstick",
        "long lasting|waterproof|cruelty free|high pigment|matte finish|vegan|"
        "moisturizing|easy to apply",
        "everyday wear|parties|weddings|women",
        "color|count",
        (5.0, 35.0),
    ),
    _t(
        "beauty",
        "hair extension",
        "hair extension|clip in hair extension|wig",
        "Beauty & Personal Care › Hair Care › Hair Extensions, Wigs & Accessories › Extensions",
        "natural looking|heat resistant|synthetic hair|human hair|easy to apply|"
        "high quality|long lasting|tangle free",
        "women|daily wear|cosplay|parties",
        "color|dimension",
        (12.0, 90.0),
    ),
    _t(
        "beauty",
        "deodorant",
        "deodorant|natural deodorant|antiperspirant deodorant",
        "Beauty & Personal Care › Personal Care › Deodorants & Antiperspirants",
        "aluminum free|long lasting|natural ingredients|cruelty free|paraben free|"
        "sensitive skin|travel size|baking soda free",
        "men|women|sensitive skin|everyday use",
        "scent|count",
        (4.0, 25.0),
    ),
    _t(
        "beauty",
        "nail polish",
        "nail polish|gel nail polish|nail lacquer",
        "Beauty & Personal Care › Foot, Hand & Nail Care › Nail Art & Polish › Nail Polish",
        "quick dry|long lasting|non toxic|high gloss|easy to apply|chip resistant|vegan",
        "manicure|pedicure|nail art|salon use",
        "color|count",
        (3.0, 22.0),
    ),
    _t(
        "beauty",
        "makeup brush set",
        "makeup brush set|brush set|makeup brushes",
        "Beauty & Personal Care › Tools & Accessories › Makeup Brushes & Tools › Brush Sets",
        "soft bristles|cruelty free|synthetic hair|travel size|easy clean|high quality|"
        "dense bristles",
        "foundation|eye shadow|blending|travel",
        "color|count",
        (8.0, 40.0),
    ),
    _t(
        "beauty",
        "body wash",
        "body wash|shower gel|moisturizing body wash",
        "Beauty & Personal Care › Skin Care › Body › Cleansers › Body Washes",
        "natural ingredients|sulfate free|sensitive skin|moisturizing|paraben free|"
        "tea tree oil|dry skin|cruelty free",
        "men|women|dry skin|daily use|kids",
        "volume|scent",
        (5.0, 30.0),
    ),
    # ------------------------------------------------------------- electronics
    _t(
        "electronics",
        "wireless earbuds",
        "wireless earbuds|bluetooth earbuds|earphones",
        "Electronics › Headphones, Earbuds & Accessories › Earbud Headphones",
        "noise cancelling|bluetooth 5.0|water resistant|long battery life|fast charging|"
        "touch control|built in microphone|high fidelity",
        "running|workouts|travel|phone calls|gaming",
        "color",
        (15.0, 160.0),
    ),
    _t(
        "electronics",
        "usb c charger",
        "usb c charger|wall charger|fast charger",
        "Electronics › Cell Phones & Accessories › Chargers & Power Adapters › Wall Chargers",
        "fast charging|compact design|dual port|overheat protection|foldable plug|"
        "universal compatibility|gan technology",
        "iphone|android phones|laptops|tablets|travel",
        "color|count",
        (8.0, 60.0),
    ),
    _t(
        "electronics",
        "portable speaker",
        "portable speaker|bluetooth speaker|wireless speaker",
        "Electronics › Portable Audio & Video › Portable Speakers & Docks › Portable Bluetooth Speakers",  # noqa: E501
        "waterproof|long battery life|deep bass|stereo sound|hands free calling|"
        "built in microphone|dustproof|easy to carry",
        "outdoor parties|the beach|camping|home use|showers",
        "color",
        (18.0, 180.0),
    ),
    _t(
        "electronics",
        "memory card",
        "memory card|micro sd card|sd card",
        "Electronics › Computers & Accessories › Computer Accessories › Memory Cards",
        "high speed|4k video|water resistant|shock proof|class 10|plug and play|temperature proof",
        "cameras|drones|nintendo switch|dash cams|smartphones",
        "capacity|count",
        (6.0, 120.0),
    ),
    _t(
        "electronics",
        "hdmi cable",
        "hdmi cable|high speed hdmi cable|hdmi cord",
        "Electronics › Television & Video › Accessories › Cables › HDMI Cables",
        "4k support|gold plated|high speed|braided cable|ethernet support|plug and play|"
        "durable construction",
        "tv|monitors|gaming consoles|projectors|laptops",
        "dimension|count",
        (5.0, 35.0),
    ),
    _t(
        "electronics",
        "smart watch",
        "smart watch|fitness tracker watch|smartwatch",
        "Electronics › Wearable Technology › Smartwatches",
        "heart rate monitor|water resistant|sleep tracking|long battery life|gps|"
        "bluetooth|touch screen|step counter",
        "fitness|running|swimming|android phones|iphone",
        "color|style",
        (25.0, 250.0),
    ),
    _t(
        "electronics",
        "security camera",
        "security camera|wifi camera|home security camera",
        "Electronics › Camera & Photo › Video Surveillance › Surveillance Cameras",
        "night vision|motion detection|two way audio|1080p hd|easy to install|"
        "cloud storage|weatherproof|wide angle",
        "home security|baby monitoring|pets|outdoor use",
        "color|count",
        (20.0, 150.0),
    ),
    _t(
        "electronics",
        "laptop stand",
        "laptop stand|adjustable laptop stand|notebook stand",
        "Electronics › Computers & Accessories › Laptop Accessories › Stands",
        "height adjustable|aluminum alloy|foldable|non slip|heat dissipation|ergonomic design|"
        "easy to carry",
        "desks|macbook|home office|travel",
        "color",
        (12.0, 70.0),
    ),
    # ----------------------------------------------------------------- fashion
    _t(
        "fashion",
        "men's t-shirt",
        "t-shirt|crew neck t-shirt|graphic tee",
        "Clothing, Shoes & Jewelry › Men › Clothing › Shirts › T-Shirts",
        "machine wash|short sleeve|cotton blend|regular fit|slim fit|moisture wicking|"
        "classic fit|soft material",
        "men|daily wear|workouts|casual wear",
        "color|size",
        (9.0, 35.0),
    ),
    _t(
        "fashion",
        "women's dress",
        "dress|maxi dress|summer dress",
        "Clothing, Shoes & Jewelry › Women › Clothing › Dresses › Casual",
        "machine wash|short sleeve|long sleeve|polyester spandex|elastic waist|"
        "button closure|relaxed fit|hand wash",
        "women|summer|weddings|parties|the beach",
        "color|size",
        (18.0, 80.0),
    ),
    _t(
        "fashion",
        "running shoes",
        "running shoes|sneakers|athletic shoes",
        "Clothing, Shoes & Jewelry › Men › Shoes › Athletic › Running",
        "non slip|rubber sole|lightweight|breathable mesh|arch support|lace up closure|"
        "memory foam|slip resistant",
        "running|walking|gym|tennis|men|women",
        "color|shoe size",
        (25.0, 120.0),
    ),
    _t(
        "fashion",
        "women's leggings",
        "leggings|yoga pants|high waisted leggings",
        "Clothing, Shoes & Jewelry › Women › Clothing › Leggings",
        "high waist|tummy control|machine wash|squat proof|four way stretch|"
        "moisture wicking|pull on closure",
        "yoga|workouts|running|daily wear",
        "color|size",
        (12.0, 45.0),
    ),
    _t(
        "fashion",
        "winter jacket",
        "winter jacket|puffer jacket|parka coat",
        "Clothing, Shoes & Jewelry › Men › Clothing › Jackets & Coats › Down & Down Alternative",
        "water resistant|zipper closure|hooded|machine wash|windproof|quilted design|"
        "warm lining|long sleeve",
        "men|women|winter|hiking|snow",
        "color|size",
        (40.0, 200.0),
    ),
    _t(
        "fashion",
        "leather belt",
        "leather belt|dress belt|casual belt",
        "Clothing, Shoes & Jewelry › Men › Accessories › Belts",
        "genuine leather|adjustable|alloy buckle|easy to trim|classic design|durable construction",
        "men|jeans|dress pants|casual wear",
        "color|size",
        (10.0, 50.0),
    ),
    _t(
        "fashion",
        "ankle boots",
        "ankle boots|chelsea boots|booties",
        "Clothing, Shoes & Jewelry › Women › Shoes › Boots › Ankle & Bootie",
        "rubber sole|faux leather|block heel|side zipper|non slip|comfortable fit|water resistant",
        "women|fall|winter|daily wear",
        "color|shoe size",
        (28.0, 130.0),
    ),
    _t(
        "fashion",
        "socks",
        "socks|crew socks|ankle socks",
        "Clothing, Shoes & Jewelry › Men › Clothing › Socks › Athletic Socks",
        "moisture wicking|cushioned sole|cotton blend|breathable|arch support|"
        "machine wash|odor resistant",
        "men|women|running|hiking|work",
        "color|count",
        (6.0, 30.0),
    ),
    # -------------------------------------------------------------------- food
    _t(
        "food",
        "coffee beans",
        "coffee beans|whole bean coffee|ground coffee",
        "Grocery & Gourmet Food › Beverages › Coffee, Tea & Cocoa › Coffee › Whole Coffee Beans",
        "organic|fair trade|medium roast|dark roast|single origin|low acid|non gmo|freshly roasted",
        "espresso|drip coffee|french press|cold brew",
        "weight|flavor",
        (8.0, 45.0),
    ),
    _t(
        "food",
        "protein bar",
        "protein bar|energy bar|snack bar",
        "Grocery & Gourmet Food › Snack Foods › Bars › Protein Bars",
        "gluten free|high protein|low sugar|keto friendly|non gmo|plant based|"
        "dairy free|no artificial flavors",
        "snacks|workouts|breakfast|kids",
        "flavor|count",
        (9.0, 40.0),
    ),
    _t(
        "food",
        "green tea",
        "green tea|matcha green tea|tea bags",
        "Grocery & Gourmet Food › Beverages › Coffee, Tea & Cocoa › Tea › Green",
        "organic|caffeine free|non gmo|natural ingredients|individually wrapped|"
        "antioxidant rich|sugar free",
        "iced tea|hot tea|relaxing|weight management",
        "flavor|count",
        (5.0, 30.0),
    ),
    _t(
        "food",
        "olive oil",
        "olive oil|extra virgin olive oil|cooking oil",
        "Grocery & Gourmet Food › Pantry Staples › Cooking & Baking › Oils › Olive",
        "cold pressed|extra virgin|organic|non gmo|kosher|first cold press|imported",
        "cooking|salad dressing|baking|dipping",
        "volume|count",
        (7.0, 50.0),
    ),
    _t(
        "food",
        "dark chocolate",
        "dark chocolate|chocolate bar|chocolate gift box",
        "Grocery & Gourmet Food › Candy & Chocolate › Chocolate › Chocolate Bars",
        "individually wrapped|gluten free|non gmo|fair trade|sugar free|dairy free|"
        "gift box|low carb",
        "gifts|valentines day|birthdays|baking|snacks",
        "flavor|count",
        (5.0, 45.0),
    ),
    _t(
        "food",
        "trail mix",
        "trail mix|mixed nuts|snack mix",
        "Grocery & Gourmet Food › Snack Foods › Trail Mix",
        "high protein|gluten free|non gmo|no added sugar|resealable bag|roasted|"
        "individually wrapped|keto friendly",
        "hiking|snacks|kids|office|road trips",
        "weight|flavor",
        (6.0, 35.0),
    ),
    _t(
        "food",
        "pasta sauce",
        "pasta sauce|marinara sauce|tomato sauce",
        "Grocery & Gourmet Food › Pantry Staples › Sauces, Gravies & Marinades › Pasta & Pizza Sauces",  # noqa: E501
        "no added sugar|gluten free|non gmo|organic|vegan|low sodium|keto friendly",
        "spaghetti|pizza|lasagna|dipping",
        "weight|count",
        (4.0, 30.0),
    ),
    _t(
        "food",
        "baby food pouches",
        "baby food|baby food pouches|puree pouches",
        "Grocery & Gourmet Food › Baby Foods › Meals",
        "organic|non gmo|no added sugar|bpa free|gluten free|plant based|resealable",
        "babies|toddlers|kids|on the go snacks",
        "flavor|count",
        (8.0, 40.0),
    ),
    # --------------------------------------------------------------- furniture
    _t(
        "furniture",
        "office chair",
        "office chair|desk chair|ergonomic chair",
        "Home & Kitchen › Furniture › Home Office Furniture › Home Office Chairs › Desk Chairs",
        "lumbar support|height adjustable|easy assemble|breathable mesh|swivel|"
        "padded armrests|heavy duty|high back",
        "home office|gaming|study|conference rooms",
        "color|style",
        (45.0, 300.0),
    ),
    _t(
        "furniture",
        "coffee table",
        "coffee table|living room table|cocktail table",
        "Home & Kitchen › Furniture › Living Room Furniture › Tables › Coffee Tables",
        "solid wood|easy assemble|storage shelf|tempered glass|metal frame|"
        "mid century modern|rustic finish|space saving",
        "living rooms|apartments|offices|small spaces",
        "color|dimension",
        (50.0, 350.0),
    ),
    _t(
        "furniture",
        "bookshelf",
        "bookshelf|bookcase|storage shelf",
        "Home & Kitchen › Furniture › Home Office Furniture › Bookcases",
        "easy assemble|solid wood|metal frame|space saving|industrial style|"
        "anti tip|adjustable shelves|heavy duty",
        "living rooms|home office|bedrooms|kids rooms",
        "color|dimension",
        (35.0, 260.0),
    ),
    _t(
        "furniture",
        "bar stool",
        "bar stool|counter stool|kitchen stool",
        "Home & Kitchen › Furniture › Game & Recreation Room Furniture › Home Bar Furniture › Barstools",  # noqa: E501
        "height adjustable|swivel|faux leather|footrest|easy assemble|"
        "back support|non slip|metal frame",
        "kitchens|bars|counters|dining rooms",
        "color|count",
        (30.0, 220.0),
    ),
    _t(
        "furniture",
        "tv stand",
        "tv stand|media console|entertainment center",
        "Home & Kitchen › Furniture › Living Room Furniture › TV & Media Furniture › Television Stands",  # noqa: E501
        "storage space|easy assemble|cable management|solid wood|tempered glass|"
        "modern design|led lights",
        "living rooms|bedrooms|65 inch tvs|game consoles",
        "color|dimension",
        (60.0, 320.0),
    ),
    _t(
        "furniture",
        "nightstand",
        "nightstand|bedside table|end table",
        "Home & Kitchen › Furniture › Bedroom Furniture › Nightstands",
        "easy assemble|storage drawer|charging station|solid wood|space saving|"
        "modern design|non slip",
        "bedrooms|living rooms|small spaces|dorms",
        "color|count",
        (25.0, 180.0),
    ),
    _t(
        "furniture",
        "futon sofa",
        "futon|sofa bed|sleeper sofa",
        "Home & Kitchen › Furniture › Living Room Furniture › Sofas & Couches",
        "convertible|easy assemble|faux leather|memory foam|linen fabric|solid wood legs|"
        "space saving|high density foam",
        "living rooms|guest rooms|apartments|small spaces",
        "color|style",
        (120.0, 600.0),
    ),
    _t(
        "furniture",
        "dining chairs",
        "dining chairs|kitchen chairs|side chairs",
        "Home & Kitchen › Furniture › Kitchen & Dining Room Furniture › Chairs",
        "set of 2|set of 4|upholstered|solid wood legs|easy assemble|mid century modern|"
        "easy clean|padded seat",
        "dining rooms|kitchens|restaurants|living rooms",
        "color|pattern",
        (50.0, 280.0),
    ),
)

_PREFIXES = [
    "Aur",
    "Bel",
    "Cor",
    "Dun",
    "Eli",
    "Fen",
    "Gal",
    "Hal",
    "Ivo",
    "Jun",
    "Kel",
    "Lum",
    "Mar",
    "Nov",
    "Orl",
    "Pel",
    "Qui",
    "Ros",
    "Sol",
    "Tav",
    "Ulm",
    "Ver",
    "Wyn",
    "Xan",
    "Yor",
    "Zen",
    "Alt",
    "Bry",
    "Cal",
    "Dar",
]
_SUFFIXES = [
    "a",
    "ex",
    "ora",
    "ix",
    "on",
    "ia",
    "ly",
    "is",
    "um",
    "ette",
    "wood",
    "field",
    "ton",
    "co",
]

#: Brand names (syllable combinations, e.g. "Lumora", "Solwood").
BRANDS: tuple[str, ...] = tuple(p + s for p in _PREFIXES for s in _SUFFIXES)

#: Title modifiers per category.
CATEGORY_MODIFIERS: dict[str, tuple[str, ...]] = {
    "beauty": (
        "Organic",
        "Professional",
        "Natural",
        "Premium",
        "Gentle",
        "Salon Grade",
        "Vegan",
        "Luxury",
        "Daily",
        "Advanced",
    ),
    "electronics": (
        "Upgraded",
        "Premium",
        "Compact",
        "Portable",
        "Ultra",
        "Pro",
        "Smart",
        "Wireless",
        "Heavy Duty",
        "Mini",
    ),
    "fashion": (
        "Classic",
        "Casual",
        "Slim Fit",
        "Vintage",
        "Comfort",
        "Athletic",
        "Everyday",
        "Designer",
        "Lightweight",
        "Soft",
    ),
    "food": (
        "Organic",
        "Gourmet",
        "Artisan",
        "Premium",
        "Classic",
        "Natural",
        "Family Size",
        "Healthy",
        "Small Batch",
        "Authentic",
    ),
    "furniture": (
        "Modern",
        "Rustic",
        "Industrial",
        "Mid Century",
        "Farmhouse",
        "Contemporary",
        "Minimalist",
        "Classic",
        "Scandinavian",
        "Vintage",
    ),
}

#: Materials or ingredients mentioned in descriptions, per category.
MATERIALS: dict[str, tuple[str, ...]] = {
    "beauty": ("aloe vera", "shea butter", "jojoba oil", "green tea extract", "vitamin e"),
    "electronics": ("abs plastic", "aluminum", "tempered glass", "silicone", "copper"),
    "fashion": ("cotton", "polyester", "spandex", "wool blend", "linen"),
    "food": ("whole grains", "real fruit", "cocoa", "almonds", "sea salt"),
    "furniture": ("engineered wood", "solid pine", "steel", "oak veneer", "rattan"),
}

#: Description sentences; placeholders: brand, noun, attr, attr2, use, material.
DESCRIPTION_TEMPLATES: tuple[str, ...] = (
    "The {brand} {noun}: {attr}, {attr2}, made for {use}.",
    "Made with {material}, this {noun} offers {attr} for everyday comfort.",
    "Looking for the right {noun} with {attr}? Ours is designed for {use}.",
    "{brand} has made quality products since 2009, and this {noun} is no exception.",
    "Enjoy this {noun}: {attr2}, and built to last.",
    "Each {noun} is inspected by hand before it ships.",
    "Perfect for {use}, and a thoughtful gift for family and friends.",
    "We use {material} in every {noun}, {attr} from the first day to the last.",
)

#: Bullet points (features); placeholders as in :data:`DESCRIPTION_TEMPLATES`.
BULLET_TEMPLATES: tuple[str, ...] = (
    "{ATTR}: a {attr} design you can rely on every day",
    "DESIGNED FOR {USE}: this {noun} is made for {use}",
    "QUALITY MATERIAL: made with {material} for durability",
    "{ATTR2}: made with {attr2} in mind to suit your needs",
    "WHAT YOU GET: 1 x {brand} {noun}, user guide and friendly customer service",
    "SATISFACTION GUARANTEE: if you are not happy, contact us for a refund or replacement",
    "EASY TO USE: ready to use right out of the box",
)

#: Review titles by score 1..5.
REVIEW_TITLES: dict[int, tuple[str, ...]] = {
    1: ("Disappointed", "Not as described", "Broke quickly"),
    2: ("Could be better", "Meh", "Not worth the price"),
    3: ("It's okay", "Average", "Does the job"),
    4: ("Pretty good", "Nice quality", "Happy with it"),
    5: ("Love it!", "Excellent", "Exactly what I wanted", "Highly recommend"),
}

#: Review bodies by score 1..5; placeholder: noun.
REVIEW_BODIES: dict[int, tuple[str, ...]] = {
    1: ("The {noun} stopped working after a week.", "Cheap feel, I returned the {noun}."),
    2: ("The {noun} is smaller than I expected.", "Works, but the quality is poor."),
    3: ("Decent {noun} for the price.", "The {noun} is fine, nothing special."),
    4: ("Good {noun}, would buy again.", "Solid {noun}; shipping was a bit slow."),
    5: ("Best {noun} I have owned.", "Great {noun}, exactly as pictured.", "Perfect, five stars."),
}
