--[[
SU-Kvinnofrid report filter (used by Quarto and by the built-in pandoc backend).

1. `::: {.content-visible when-format="html"}` / `.content-hidden` divs: keep or drop
   the content by output format (Quarto does the same; this makes plain pandoc agree).
   Formats: html matches html/html5; pdf matches typst and latex.
2. Links with class `csv-download` (a diagram's table): in HTML the href becomes a
   `data:text/csv` URI with the file's bytes, so the self-contained report works
   offline; in other formats the link becomes plain text.
3. Images with a `fig-alt` attribute get it as their alt text (Quarto's convention).
4. Divs `.demo-varning`, `.platshallare` and `.faktaruta` (an authors' box) become framed blocks in Typst (the CSS
   frames them in HTML), so neither the demo warning nor placeholder text is missed.
5. In HTML a figure `figures/x.png` is shown as `figures/x.svg` when that file exists:
   the chapters name the PNG (what the PDF needs), the browser gets the sharp vector.
6. Tables with a caption (`: Figur 1. ...` under a pipe table): in Typst the table
   goes into `#figure(kind: table, caption: ...)` with the caption on top. Quarto's
   Typst output drops the caption of a table that is not a cross-reference
   (`{#tbl-...}`, which would add Quarto's own "Tabell N"); pandoc keeps it. Doing it
   here for both gives the same captions in both backends. The figure goes into
   `kf-table` (typst-template.typ), which keeps a table that fits on a page together.
7. Quarto's HTML book: level-1 headings are `.unnumbered`, so an appendix's title stays
   "Bilaga 1. ..." (the chapters carry their own numbers) instead of "Bilaga A — Bilaga 1. ...".
   Not in Typst, where Quarto's book filter reads an unnumbered first appendix heading
   as its own divider and drops it.
8. A span `[...]{.kf-renderer}` (the colophon) gets the metadata value
   `kvinnofrid-renderer`: which backend rendered the report and its version
   (kvinnofrid.reporting.render sets it for both backends).
9. In Typst (built-in backend) an image with alt text becomes `image(..., alt: ...)`:
   pandoc's Typst writer drops the alt text, which the tagged PDF needs.
10. HTML: the first page opens with a link to the PDF (metadata `kvinnofrid-pdf`, with
   `kvinnofrid-pdf-size`), and links with class `kf-beside-report` (a file published
   beside the report, such as provenance.json) get the prefix `kvinnofrid-beside-report`
   (`../` for the book in html/). render.pdf_link_metadata sets these for both backends.
]]

-- Read from the metadata (read_meta, the first pass) before the document is walked.
local renderer = nil
local pdf_href, pdf_size, beside = nil, nil, ""

local function format_matches(spec)
  if spec == nil or spec == "" then return false end
  for name in string.gmatch(spec, "[^%s,]+") do
    if name == "pdf" then
      if FORMAT:match("typst") or FORMAT:match("latex") or FORMAT:match("beamer") then return true end
    elseif name == "html" then
      if FORMAT:match("html") then return true end
    elseif FORMAT == name or FORMAT:match("^" .. name) then
      return true
    end
  end
  return false
end

local function is_html()
  return FORMAT:match("html") ~= nil
end

local FRAMES = {
  ["demo-varning"] = 'stroke: (left: 3pt + rgb("#d55e00")), fill: rgb("#fdf0e8")',
  ["platshallare"] = 'stroke: (paint: rgb("#e69f00"), dash: "dashed"), fill: rgb("#fff8ec")',
  ["faktaruta"] = 'stroke: 1pt + rgb("#0072b2"), fill: rgb("#eef5fb")',
}

local function framed(div)
  if not FORMAT:match("typst") then return nil end
  for class, style in pairs(FRAMES) do
    if div.classes:includes(class) then
      local blocks = { pandoc.RawBlock("typst", "#block(width: 100%, inset: 8pt, " .. style .. ")[") }
      for _, b in ipairs(div.content) do table.insert(blocks, b) end
      table.insert(blocks, pandoc.RawBlock("typst", "]"))
      return blocks
    end
  end
  return nil
end

function Div(div)
  local frame = framed(div)
  if frame ~= nil then return frame end
  if quarto ~= nil then return nil end -- Quarto handles these divs itself
  if div.classes:includes("content-visible") then
    local when, unless = div.attributes["when-format"], div.attributes["unless-format"]
    if (when and not format_matches(when)) or (unless and format_matches(unless)) then
      return {}
    end
    return div.content
  elseif div.classes:includes("content-hidden") then
    local when, unless = div.attributes["when-format"], div.attributes["unless-format"]
    if (when and format_matches(when)) or (unless and not format_matches(unless)) then
      return {}
    end
    return div.content
  end
end

local function percent_encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local function read_file(path)
  local candidates = { path }
  if PANDOC_STATE and PANDOC_STATE.input_files and PANDOC_STATE.input_files[1] then
    local dir = pandoc.path.directory(PANDOC_STATE.input_files[1])
    table.insert(candidates, pandoc.path.join({ dir, path }))
  end
  if PANDOC_STATE and PANDOC_STATE.resource_path then
    for _, dir in ipairs(PANDOC_STATE.resource_path) do
      table.insert(candidates, pandoc.path.join({ dir, path }))
    end
  end
  for _, candidate in ipairs(candidates) do
    local f = io.open(candidate, "rb")
    if f then
      local content = f:read("a")
      f:close()
      return content
    end
  end
  return nil
end

function Link(link)
  -- A file published beside the report (provenance.json): the HTML book lives one
  -- folder down (html/), the PDF beside the file.
  if link.classes:includes("kf-beside-report") then
    if is_html() and beside ~= "" and not link.target:match("^%a[%w+.-]*:") then
      link.target = beside .. link.target
      return link
    end
    return nil
  end
  if not link.classes:includes("csv-download") then return nil end
  if not is_html() then return link.content end
  if link.target:match("^data:") then return nil end
  local content = read_file(link.target)
  if content == nil then
    io.stderr:write("kvinnofrid.lua: varning: hittar inte tabellfilen " .. link.target .. "\n")
    return nil
  end
  if link.attributes["download"] == nil then
    link.attributes["download"] = pandoc.path.filename(link.target)
  end
  link.target = "data:text/csv;charset=utf-8," .. percent_encode(content)
  return link
end

local function file_exists(path)
  return read_file(path) ~= nil
end

local function typst_string(text)
  return '"' .. text:gsub("\\", "\\\\"):gsub('"', '\\"') .. '"'
end

-- Pandoc's Typst writer drops an image's alt text; a tagged PDF needs it on the
-- image (Typst's `image(alt: ...)` becomes the /Alt of the PDF's /Figure element),
-- as Quarto's own Typst writer does it.
local function typst_image(img, alt)
  local params = { typst_string(img.src), "alt: " .. typst_string(alt) }
  local width = img.attributes["width"]
  local number, unit = (width or ""):match("^(%d+%.?%d*)(%S*)$")
  if number and (unit == "%" or unit == "cm" or unit == "mm" or unit == "in" or unit == "pt") then
    table.insert(params, "width: " .. number .. unit)
  end
  return pandoc.RawInline("typst", "#box(image(" .. table.concat(params, ", ") .. "))")
end

function Image(img)
  local changed = false
  if is_html() and img.src:match("%.png$") then
    local svg = img.src:gsub("%.png$", ".svg")
    if file_exists(svg) then
      img.src = svg
      changed = true
    end
  end
  -- Quarto handles fig-alt itself
  local alt = img.attributes["fig-alt"]
  if quarto == nil and alt and alt ~= "" then
    if FORMAT:match("typst") then return typst_image(img, alt) end
    img.caption = pandoc.Inlines({ pandoc.Str(alt) })
    img.attributes["fig-alt"] = nil
    changed = true
  end
  if changed then return img end
end

local function meta_string(meta, key)
  if meta[key] == nil then return nil end
  return pandoc.utils.stringify(meta[key])
end

local function read_meta(meta)
  renderer = meta_string(meta, "kvinnofrid-renderer") or renderer
  pdf_href = meta_string(meta, "kvinnofrid-pdf")
  pdf_size = meta_string(meta, "kvinnofrid-pdf-size")
  beside = meta_string(meta, "kvinnofrid-beside-report") or ""
end

-- The first page of the HTML (Quarto: the book's index page; the built-in backend and a
-- single document: the one page) opens with a link to the PDF, naming format and size.
local function first_page()
  if quarto == nil or quarto.doc == nil or quarto.doc.input_file == nil then return true end
  return pandoc.path.filename(quarto.doc.input_file):match("^index%.") ~= nil
end

local function pdf_link(doc)
  if not is_html() or pdf_href == nil or not pdf_href:match("%.pdf$") or not first_page() then return nil end
  local about = "PDF" .. ((pdf_size and pdf_size ~= "") and (", " .. pdf_size) or "")
  local link = pandoc.Link(pandoc.Inlines("Ladda ner rapporten som PDF"), pdf_href, "", { class = "kf-pdf-link" })
  local para = pandoc.Para({ link, pandoc.Space(), pandoc.Str("(" .. about .. ")") })
  local block = pandoc.Div({ para }, pandoc.Attr("", { "kf-pdf-download" }))
  if quarto == nil then
    -- pandoc's HTML template puts the table of contents before the body: the link goes
    -- above the title instead (the template's include-before), not below a long contents
    doc.meta["include-before"] = pandoc.MetaBlocks({ block })
  else
    table.insert(doc.blocks, 1, block) -- Quarto: under the title block of the first page
  end
  return doc
end

function Span(span)
  if span.classes:includes("kf-renderer") and renderer ~= nil and renderer ~= "" then
    span.content = pandoc.Inlines(renderer)
    return span
  end
end

function Table(tbl)
  if not FORMAT:match("typst") then return nil end
  local caption = pandoc.utils.blocks_to_inlines(tbl.caption.long or {})
  if #caption == 0 then return nil end
  local markup = pandoc.write(pandoc.Pandoc({ pandoc.Plain(caption) }), "typst"):gsub("%s+$", "")
  tbl.caption = pandoc.Caption({})
  return {
    pandoc.RawBlock("typst", "#kf-table[#figure(kind: table, caption: figure.caption(position: top, [" .. markup .. "]))["),
    tbl,
    pandoc.RawBlock("typst", "]]"),
  }
end

function Header(h)
  if quarto ~= nil and is_html() and h.level == 1 and not h.classes:includes("unnumbered") then
    h.classes:insert("unnumbered")
    return h
  end
end

-- The metadata first (Meta runs last in a single pass), then the document.
return {
  { Meta = read_meta },
  { Div = Div, Link = Link, Image = Image, Span = Span, Table = Table, Header = Header },
  { Pandoc = pdf_link },
}
