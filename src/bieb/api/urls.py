from ninja import NinjaAPI

api = NinjaAPI(title="Bieb API", version="1", urls_namespace="api")
