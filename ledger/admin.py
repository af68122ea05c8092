from django.contrib import admin

from .models import Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "brand", "category", "price", "active"]
    list_filter = ["brand", "category", "active"]
    search_fields = ["name", "external_id"]
    list_select_related = ["brand"]
