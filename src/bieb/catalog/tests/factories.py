"""Factories for catalogue tests: works, editions with contributors and subjects, items at
locations, digital licences. ISBNs are valid 978-90 numbers built with python-stdnum."""

from __future__ import annotations

import factory
from stdnum import ean

from bieb.accounts.tests.factories import LocationFactory, OrganisationFactory
from bieb.catalog import models, text


def make_isbn13(n: int, prefix: str = "97890") -> str:
    body = f"{prefix}{n:07d}"[:12]
    return body + ean.calc_check_digit(body)


class WorkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Work

    title = factory.Sequence(lambda n: f"Werk {n}")
    author_name = "Jansen, Anna"
    key = factory.LazyAttributeSequence(lambda o, n: f"{text.work_key(o.title, o.author_name)}#{n}")


class EditionFactory(factory.django.DjangoModelFactory):
    """``authors=["Reve, Gerard"]`` and ``subject_labels=["Oorlog"]`` add credits/subjects."""

    class Meta:
        model = models.Edition
        skip_postgeneration_save = True

    work = factory.SubFactory(WorkFactory, title=factory.SelfAttribute("..title"))
    title = factory.Sequence(lambda n: f"Titel {n}")
    isbn = factory.Sequence(lambda n: make_isbn13(n))
    publisher = "Querido"
    year = 2020
    language = "dut"
    format = models.Format.BOOK
    source = "test"
    source_id = factory.Sequence(lambda n: f"T{n:08d}")

    @factory.post_generation
    def authors(self, create, extracted, **kwargs):
        if not create or not extracted:
            return
        for position, name in enumerate(extracted):
            contributor, _ = models.Contributor.objects.get_or_create(
                key=text.fold(name),
                defaults={"name": name, "slug": text.slug_for(text.fold(name))},
            )
            models.EditionContributor.objects.create(
                edition=self, contributor=contributor, position=position
            )
        self.contributors_text = "; ".join(
            models.Contributor(name=n).display_name for n in extracted
        )
        self.save(update_fields=["contributors_text"])

    @factory.post_generation
    def subject_labels(self, create, extracted, **kwargs):
        if not create or not extracted:
            return
        for label in extracted:
            subject, _ = models.Subject.objects.get_or_create(
                key=text.fold(label), defaults={"label": label, "slug": text.slug_for(label)}
            )
            self.subjects.add(subject)


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Item

    edition = factory.SubFactory(EditionFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    home_location = factory.SubFactory(
        LocationFactory, organisation=factory.SelfAttribute("..organisation")
    )
    location = factory.SelfAttribute("home_location")
    barcode = factory.Sequence(lambda n: f"3{n:013d}")
    shelf_mark = "R JANS"
    status = models.ItemStatus.AVAILABLE
    replacement_cost_cents = 2495


class DigitalLicenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.DigitalLicence

    edition = factory.SubFactory(EditionFactory, format=models.Format.EBOOK)
    organisation = None
    model = models.LicenceModel.ONE_COPY_ONE_USER
    provider = "Test-leverancier"
    concurrent_users = 1
