"""Join PDFs into one file while they are made, holding only an offset per object in memory.

pypdf's PdfWriter keeps every page of the merged document until it writes it, so a semester
bundle's worker grew with every plan (bench/README.md). Here each plan's PDF is read,
its pages and everything they reference are written to the output straight away with new
object numbers, and the reader is dropped; only the object offsets, the page references and one
bookmark per plan remain until the end, where the page tree, the outline, the catalogue and the
cross-reference table are written.
"""

import io

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

CATALOG, PAGES = 1, 2
# Page attributes a page may inherit from its page tree (PDF 32000-1, 7.7.3.4).
INHERITED = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")


class StreamingPdfMerger:
    def __init__(self, out):
        self.out = out
        self.offsets = {}
        self.next_id = PAGES + 1
        self.kids = []
        self.bookmarks = []  # (title, first page's object number)
        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    def _allocate(self):
        number = self.next_id
        self.next_id += 1
        return number

    def _write(self, number, obj):
        self.offsets[number] = self.out.tell()
        self.out.write(f"{number} 0 obj\n".encode())
        obj.write_to_stream(self.out)
        self.out.write(b"\nendobj\n")

    def append(self, pdf_bytes, *, title=""):
        """Add every page of one PDF; ``title`` becomes its bookmark."""
        reader = PdfReader(io.BytesIO(pdf_bytes))
        numbers = {}  # the source's object number -> ours
        queue = []

        def ref(source):
            key = source.idnum
            if key not in numbers:
                numbers[key] = self._allocate()
                queue.append(source)
            return IndirectObject(numbers[key], 0, None)

        def copy(obj, *, skip=()):
            if isinstance(obj, IndirectObject):
                return ref(obj)
            if isinstance(obj, StreamObject):
                new = type(obj)()
                new._data = obj._data
                for key, value in obj.items():
                    if key not in ("/Length", *skip):
                        new[NameObject(key)] = copy(value)
                return new
            if isinstance(obj, DictionaryObject):
                return DictionaryObject(
                    {NameObject(k): copy(v) for k, v in obj.items() if k not in skip}
                )
            if isinstance(obj, ArrayObject):
                return ArrayObject(copy(v) for v in obj)
            return obj

        first_page = None
        for page in reader.pages:
            source = page.indirect_reference
            number = ref(source)
            first_page = first_page or number
            self.kids.append(number)
        page_numbers = {numbers[p.indirect_reference.idnum] for p in reader.pages}
        while queue:
            source = queue.pop()
            obj = source.get_object()
            number = numbers[source.idnum]
            if number in page_numbers:
                page = copy(obj, skip=("/Parent",))
                for key in INHERITED:
                    if key not in page:
                        inherited = _inherited(obj, key)
                        if inherited is not None:
                            page[NameObject(key)] = copy(inherited)
                page[NameObject("/Parent")] = IndirectObject(PAGES, 0, None)
                self._write(number, page)
            else:
                self._write(number, copy(obj) if obj is not None else NullObject())
        if first_page is not None and title:
            self.bookmarks.append((title, first_page.idnum))

    def close(self):
        """Write the page tree, the bookmarks, the catalogue and the cross-reference table."""
        pages = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Pages"),
                NameObject("/Kids"): ArrayObject(self.kids),
                NameObject("/Count"): NumberObject(len(self.kids)),
            }
        )
        self._write(PAGES, pages)
        catalog = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Catalog"),
                NameObject("/Pages"): IndirectObject(PAGES, 0, None),
            }
        )
        if self.bookmarks:
            catalog[NameObject("/Outlines")] = self._write_outline()
            catalog[NameObject("/PageMode")] = NameObject("/UseOutlines")
        self._write(CATALOG, catalog)

        xref = self.out.tell()
        size = self.next_id
        self.out.write(f"xref\n0 {size}\n0000000000 65535 f \n".encode())
        for number in range(1, size):
            self.out.write(f"{self.offsets[number]:010d} 00000 n \n".encode())
        trailer = DictionaryObject(
            {
                NameObject("/Size"): NumberObject(size),
                NameObject("/Root"): IndirectObject(CATALOG, 0, None),
            }
        )
        self.out.write(b"trailer\n")
        trailer.write_to_stream(self.out)
        self.out.write(f"\nstartxref\n{xref}\n%%EOF\n".encode())

    def _write_outline(self):
        root = self._allocate()
        items = [self._allocate() for _ in self.bookmarks]
        for index, ((title, page), number) in enumerate(zip(self.bookmarks, items, strict=True)):
            item = DictionaryObject(
                {
                    NameObject("/Title"): TextStringObject(title),
                    NameObject("/Parent"): IndirectObject(root, 0, None),
                    NameObject("/Dest"): ArrayObject(
                        [
                            IndirectObject(page, 0, None),
                            NameObject("/XYZ"),
                            NullObject(),
                            NullObject(),
                            FloatObject(0),
                        ]
                    ),
                }
            )
            if index:
                item[NameObject("/Prev")] = IndirectObject(items[index - 1], 0, None)
            if index + 1 < len(items):
                item[NameObject("/Next")] = IndirectObject(items[index + 1], 0, None)
            self._write(number, item)
        outline = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Outlines"),
                NameObject("/First"): IndirectObject(items[0], 0, None),
                NameObject("/Last"): IndirectObject(items[-1], 0, None),
                NameObject("/Count"): NumberObject(len(items)),
            }
        )
        self._write(root, outline)
        return IndirectObject(root, 0, None)


def _inherited(page, key):
    node = page
    while node is not None:
        if key in node:
            return node[key]
        parent = node.get("/Parent")
        node = parent.get_object() if parent is not None else None
    return None
