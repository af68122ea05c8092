from transparency.registry import DataKind, Purpose, Source, Touchpoint, register

register(
    DataKind(
        name="recommendation",
        label="Recommendations",
        model="recommendations.Recommendation",
        owner="customer",
        source=Source.INFERRED,
        purposes=(Purpose.PERSONALIZATION,),
        description="Products our model suggests for you, each with the data points of yours "
        "that led to it. Recomputed whenever your data or choices change.",
        sensitivity="low",
        touchpoints=(Touchpoint.RECOMMENDATIONS, Touchpoint.WIDGET),
        brand_field="brand",
        created_field="created_at",
    ),
    DataKind(
        name="inferred_interest",
        label="Interests we inferred",
        model="recommendations.InferredInterest",
        owner="customer",
        source=Source.INFERRED,
        purposes=(Purpose.PERSONALIZATION,),
        description="Product categories your activity suggests you like, with a weight.",
        sensitivity="low",
        touchpoints=(Touchpoint.RECOMMENDATIONS,),
        brand_field="brand",
        created_field="created_at",
    ),
    DataKind(
        name="contact_hour",
        label="Best time to reach you",
        model="recommendations.ContactHourInference",
        owner="customer",
        source=Source.INFERRED,
        purposes=(Purpose.CONTACT,),
        description="The hour of day you are most often active, learned from your activity. "
        "Your own choice in contact preferences always wins.",
        sensitivity="low",
        touchpoints=(Touchpoint.MESSAGES,),
        brand_field="brand",
        created_field="created_at",
    ),
)
