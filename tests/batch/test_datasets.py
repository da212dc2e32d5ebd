from __future__ import annotations

import pytest
from runs_fixtures import write_images

from peephole.batch import open_dataset
from peephole.errors import InputError


def test_folder_is_read_recursively_with_stable_relative_ids(tmp_path):
    write_images(tmp_path, 4)
    (tmp_path / "notes.txt").write_text("not an image")
    ds = open_dataset(tmp_path)
    assert ds.modality == "image"
    assert [i.id for i in ds] == ["img000.png", "img002.png", "sub/img001.png", "sub/img003.png"]
    assert [i.id for i in open_dataset(tmp_path)] == [i.id for i in ds]
    assert all(i.label is None for i in ds)


def test_csv_of_paths_with_labels_relative_to_the_csv(tmp_path):
    write_images(tmp_path / "photos", 2)
    (tmp_path / "list.csv").write_text("path,label\nphotos/img000.png,red\nphotos/sub/img001.png,2\n")
    ds = open_dataset(tmp_path / "list.csv")
    assert ds.modality == "image" and ds.has_labels
    assert [i.label for i in ds] == ["red", "2"]
    assert ds.items[1].source == str((tmp_path / "photos/sub/img001.png").resolve())


def test_csv_column_of_sentences_and_text_file(tmp_path):
    (tmp_path / "s.csv").write_text('review,label\n"good, very good",positive\nbad movie,negative\n')
    ds = open_dataset(tmp_path / "s.csv", column="review")
    assert ds.modality == "text" and [i.source for i in ds] == ["good, very good", "bad movie"]
    (tmp_path / "s.txt").write_text("first one\n\nsecond one\n")
    t = open_dataset(tmp_path / "s.txt")
    assert [i.source for i in t] == ["first one", "second one"]
    assert t.items[1].id.startswith("000003:")  # line number: blank lines keep their place
    (tmp_path / "s.txt").write_text("first one\n\nsecond one changed\n")
    assert open_dataset(tmp_path / "s.txt").items[1].id != t.items[1].id  # an edited sentence is a new item


def test_bad_dataset_specs_are_one_clear_error(tmp_path):
    with pytest.raises(InputError, match="no such folder"):
        open_dataset(tmp_path / "missing")
    with pytest.raises(InputError, match="no images found"):
        open_dataset(tmp_path)
    (tmp_path / "a.csv").write_text("x,y\n1,2\n")
    with pytest.raises(InputError, match="name the column"):
        open_dataset(tmp_path / "a.csv")
    with pytest.raises(InputError, match="no column 'nope'"):
        open_dataset(tmp_path / "a.csv", column="nope")
